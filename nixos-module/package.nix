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
    # As scripts/styx: JVM warnings to stderr (never into a NAR on stdout); no --add-opens or
    # --enable-native-access here, the jar's manifest carries them for -jar (on the command line
    # they would turn off CDS's archived module graph).
    makeWrapper ${jdk21_headless}/bin/java $out/bin/styx \
      --add-flags "-Xlog:disable -Xlog:all=warning:stderr" \
      --add-flags "-jar $out/share/styx/styx.jar"
  '';
  meta = {
    description = "Lazy, chunk-shared, diff-fetched Nix substitution over EROFS";
    license = lib.licenses.asl20;
    platforms = [ "x86_64-linux" ];
    mainProgram = "styx";
  };
}
