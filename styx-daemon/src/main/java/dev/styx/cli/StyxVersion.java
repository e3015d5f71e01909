package dev.styx.cli;

import picocli.CommandLine.IVersionProvider;

/** Reports the build version from the jar manifest (picocli's side of {@link StyxMain#version}). */
public final class StyxVersion implements IVersionProvider {
  @Override
  public String[] getVersion() {
    return StyxMain.version();
  }
}
