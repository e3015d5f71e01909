package dev.styx.sig;

import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Trusted public keys, like Nix's {@code trusted-public-keys}: a message is trusted when at least
 * one of its signatures is valid under the trusted key of the same name (libstore
 * ValidPathInfo::checkSignatures).
 */
public final class NixKeyring {
  private final Map<String, NixPublicKey> byName;

  private NixKeyring(Map<String, NixPublicKey> byName) {
    this.byName = byName;
  }

  /** A keyring of the given keys; two different keys with one name are an error. */
  public static NixKeyring of(Collection<NixPublicKey> keys) {
    Map<String, NixPublicKey> m = new LinkedHashMap<>();
    for (NixPublicKey k : keys) {
      NixPublicKey old = m.putIfAbsent(k.name(), k);
      if (old != null && !old.equals(k)) {
        throw new IllegalArgumentException("two different trusted keys named '" + k.name() + "'");
      }
    }
    return new NixKeyring(m);
  }

  /** A keyring of the given keys. */
  public static NixKeyring of(NixPublicKey... keys) {
    return of(List.of(keys));
  }

  /** Parses a whitespace-separated list of {@code name:base64} keys, as in nix.conf. */
  public static NixKeyring parse(String keys) {
    List<NixPublicKey> list =
        java.util.Arrays.stream(keys.trim().split("\\s+"))
            .filter(s -> !s.isEmpty())
            .map(NixPublicKey::parse)
            .toList();
    return of(list);
  }

  /** The trusted keys. */
  public Collection<NixPublicKey> keys() {
    return List.copyOf(byName.values());
  }

  /** True if no key is trusted (then nothing verifies). */
  public boolean isEmpty() {
    return byName.isEmpty();
  }

  /** True if at least one signature is valid under the trusted key of its name. */
  public boolean verifiesAny(byte[] message, Collection<NixSignature> sigs) {
    for (NixSignature s : sigs) {
      NixPublicKey k = byName.get(s.keyName());
      if (k != null && k.verify(message, s)) {
        return true;
      }
    }
    return false;
  }

  /** {@link #verifiesAny(byte[], Collection)} over a UTF-8 string. */
  public boolean verifiesAny(String message, Collection<NixSignature> sigs) {
    return verifiesAny(message.getBytes(StandardCharsets.UTF_8), sigs);
  }

  @Override
  public String toString() {
    return "NixKeyring" + byName.keySet();
  }
}
