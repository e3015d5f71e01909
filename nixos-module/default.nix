# NixOS module for the Styx daemon (Java).
#
#   imports = [ /path/to/styx/nixos-module ];
#   services.styx = {
#     enable = true;
#     manifester = "https://styx.example.org";
#     trustedKeys = [ "styx-1:BASE64PUBKEY=" ];
#   };
#
# The daemon runs as a Type=notify service; `systemctl status styx` shows its STATUS= line and
# `journalctl -u styx` its logs. The fanotify backend keeps its notification group and slab fds
# in systemd's fd store (FileDescriptorStoreMax), so a crashed or restarted daemon never lets a
# reader see zeros.
{ config, lib, pkgs, ... }:

let
  cfg = config.services.styx;
  inherit (lib) mkEnableOption mkOption mkIf types concatMapStringsSep escapeShellArgs;
in
{
  options.services.styx = {
    enable = mkEnableOption "the Styx lazy substitution daemon";

    package = mkOption {
      type = types.package;
      default = pkgs.callPackage ./package.nix { };
      defaultText = lib.literalExpression "pkgs.callPackage ./package.nix { }";
      description = "The Styx package (provides bin/styx).";
    };

    cacheDir = mkOption {
      type = types.path;
      default = "/var/cache/styx";
      description = "Where the daemon keeps its LMDB database, images and slab files.";
    };

    socket = mkOption {
      type = types.path;
      default = "/var/cache/styx/styx.sock";
      description = "The daemon's Unix socket (root-only), used by the Nix glue and the CLI.";
    };

    backend = mkOption {
      type = types.enum [ "auto" "fanotify" "cachefiles" "eager" ];
      default = "auto";
      description = ''
        How the kernel asks for missing data. `auto` probes: cachefiles (needs
        enableKernelOptions), then fanotify (Linux >= 6.14), then eager (Linux >= 6.12).
      '';
    };

    manifester = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "https://styx.example.org";
      description = "Base URL of the manifester. When set, the daemon is initialised at start.";
    };

    chunks = mkOption {
      type = types.nullOr types.str;
      default = null;
      description = "Base URL of the chunk tree (`<base>/chunk/<hex>`); defaults to the manifester.";
    };

    trustedKeys = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "styx-1:BASE64PUBKEY=" ];
      description = "Manifest signing keys the daemon trusts (`name:base64`, like trusted-public-keys).";
    };

    enableKernelOptions = mkOption {
      type = types.bool;
      default = false;
      description = ''
        Patch the kernel config with CONFIG_CACHEFILES_ONDEMAND and CONFIG_EROFS_FS_ONDEMAND for
        the cachefiles backend (deprecated upstream; removed in Linux 7.2). Not needed for the
        fanotify backend on Linux >= 6.14.
      '';
    };

    slabDirectIo = mkOption {
      type = types.bool;
      default = true;
      description = ''
        With the fanotify and eager backends, write slabs with O_DIRECT and mount the EROFS images
        with `directio`, so store-path data is cached once (in the mount's page cache), not twice.
        A file system without direct I/O keeps its slabs buffered anyway; set false to force that.
      '';
    };

    extraArgs = mkOption {
      type = types.listOf types.str;
      default = [ ];
      description = "Extra arguments for `styx daemon`.";
    };
  };

  config = mkIf cfg.enable {
    assertions = [
      {
        assertion = lib.versionAtLeast config.boot.kernelPackages.kernel.version "6.12";
        message = "services.styx needs Linux >= 6.12 (file-backed EROFS mounts).";
      }
    ];

    boot.kernelPatches = lib.optional cfg.enableKernelOptions {
      name = "styx-cachefiles-ondemand";
      patch = null;
      extraStructuredConfig = with lib.kernel; {
        CACHEFILES = yes;
        CACHEFILES_ONDEMAND = yes;
        EROFS_FS = yes;
        EROFS_FS_ONDEMAND = yes;
      };
    };

    environment.systemPackages = [ cfg.package ];

    systemd.services.styx = {
      description = "Styx lazy Nix substitution daemon";
      wantedBy = [ "sysinit.target" ];
      before = [ "sysinit.target" "shutdown.target" "nix-daemon.service" ];
      conflicts = [ "shutdown.target" ];
      after = [ "local-fs.target" ];
      unitConfig = {
        DefaultDependencies = false;
        RequiresMountsFor = [ cfg.cacheDir "/nix/store" ];
      };
      environment = {
        # The journal timestamps lines itself.
        STYX_LOG_PATTERN = "%-5level %logger{0}: %msg%n";
      } // lib.optionalAttrs (!cfg.slabDirectIo) {
        JAVA_TOOL_OPTIONS = "-Dstyx.slab.directIo=false";
      };
      serviceConfig = {
        Type = "notify";
        NotifyAccess = "main";
        ExecStart = escapeShellArgs ([
          "${cfg.package}/bin/styx" "daemon"
          "--cache-dir" cfg.cacheDir
          "--socket" cfg.socket
          "--backend" cfg.backend
        ] ++ cfg.extraArgs);
        ExecStartPost = lib.optional (cfg.manifester != null) (escapeShellArgs ([
          "${cfg.package}/bin/styx" "init" "--socket" cfg.socket
          "--manifester" cfg.manifester
          "--chunks" (if cfg.chunks != null then cfg.chunks else cfg.manifester)
        ] ++ lib.concatMap (k: [ "--trusted-key" k ]) cfg.trustedKeys));
        # Kernel-held state (fanotify group, slab write fds, the cachefiles devnode) survives
        # restarts here; the daemon refuses the fanotify backend without it.
        FileDescriptorStoreMax = 4096;
        FileDescriptorStorePreserve = "yes";
        Restart = "on-failure";
        RestartSec = 1;
        TimeoutStopSec = 30;
        LimitNOFILE = 500000;
        SyslogIdentifier = "styx";
      };
    };
  };
}
