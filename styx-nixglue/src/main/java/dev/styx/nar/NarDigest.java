package dev.styx.nar;

import dev.styx.nix.NixHash;

/** A NAR's SHA-256 and size, the narinfo NarHash/NarSize pair. */
public record NarDigest(NixHash narHash, long narSize) {}
