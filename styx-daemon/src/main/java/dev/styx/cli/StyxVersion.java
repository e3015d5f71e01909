package dev.styx.cli;

import picocli.CommandLine.IVersionProvider;

/** Reports the build version from the jar manifest. */
public final class StyxVersion implements IVersionProvider {
  @Override
  public String[] getVersion() {
    String v = Styx.class.getPackage().getImplementationVersion();
    return new String[] {
      "styx " + (v == null ? "dev" : v),
      "JVM: ${java.version} (${java.vendor} ${java.vm.name})",
      "OS: ${os.name} ${os.version} ${os.arch}"
    };
  }
}
