# Builds bin/styx from this repository with Maven. The first build prints the real mvnHash
# (Nix's fixed-output hash of the Maven dependency closure): put it below. A JDK >= 21 runs it.
{ lib, maven, jdk21_headless, makeWrapper }:

maven.buildMavenPackage {
  pname = "styx";
  version = "0.1.0";
  src = lib.cleanSource ../.;
  mvnJdk = jdk21_headless;
  mvnHash = lib.fakeHash;
  mvnParameters = "-DskipTests -Dspotless.check.skip=true -pl styx-daemon -am";
  nativeBuildInputs = [ makeWrapper ];
  installPhase = ''
    install -Dm644 styx-daemon/target/styx.jar $out/share/styx/styx.jar
    makeWrapper ${jdk21_headless}/bin/java $out/bin/styx \
      --add-flags "--enable-native-access=ALL-UNNAMED" \
      --add-flags "--add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED" \
      --add-flags "-jar $out/share/styx/styx.jar"
  '';
  meta = {
    description = "Lazy, chunk-shared, diff-fetched Nix substitution over EROFS";
    license = lib.licenses.asl20;
    platforms = [ "x86_64-linux" ];
    mainProgram = "styx";
  };
}
