package dev.styx.api;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * {@code POST /mount} body, wire-compatible with the Styx Nix patch: {@code {"Upstream",
 * "StorePath" (<hash>-<name>), "MountPoint", "NarSize"}}.
 */
public record MountRequest(
    @JsonProperty("Upstream") String upstream,
    @JsonProperty("StorePath") String storePath,
    @JsonProperty("MountPoint") String mountPoint,
    @JsonProperty("NarSize") long narSize) {}
