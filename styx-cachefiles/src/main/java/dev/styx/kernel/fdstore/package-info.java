/**
 * Keeping fds alive outside the daemon: systemd's fd store ({@code FDSTORE=1} / {@code LISTEN_FDS})
 * or the {@link dev.styx.kernel.fdstore.FdHolder} process ({@code styx fd-holder}) speaking the
 * same sd_notify message format over a SOCK_SEQPACKET socket.
 */
package dev.styx.kernel.fdstore;
