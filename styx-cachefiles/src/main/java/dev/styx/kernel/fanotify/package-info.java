/**
 * The fanotify lazy backend (Linux 6.14+ stock kernels): pre-content events on slab files serve
 * reads of missing data.
 *
 * <p>Wiring: {@link dev.styx.kernel.fanotify.FanotifyBackend#create} (fd store from {@code
 * --fd-holder} or systemd), {@link
 * dev.styx.kernel.fanotify.FanotifyBackend#probe(java.nio.file.Path)} on the slab directory for
 * {@code --backend auto}, and {@link dev.styx.kernel.fanotify.FanotifyBackend#restoredWriteFd}
 * before opening a slab's write fd.
 *
 * <p>Residual risks, by design:
 *
 * <ul>
 *   <li>Without an fd store ({@code allowNoFdStore}): if the daemon dies, pending readers get
 *       zeros, and reads of missing data on mounts left behind read holes (zeros) too.
 *   <li>With a store, the store is as vital as the mounts: if the daemon and the store (the fd
 *       holder process, or systemd's store after {@code systemctl stop} without {@code
 *       FileDescriptorStorePreserve=yes}) are both gone, the group dies with the same effect.
 *   <li>An event read in the microseconds before it is journaled (or answered on the warm path) is
 *       lost if the process dies right then: its reader waits until the group dies.
 *   <li>Slabs must live on a filesystem that allows pre-content marks (ext4, xfs, btrfs; not
 *       tmpfs): the probe checks the directory.
 * </ul>
 */
package dev.styx.kernel.fanotify;
