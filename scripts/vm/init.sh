#!/bin/busybox sh
# PID 1 of the Styx test VM's initramfs: mounts the host root (9p, read-only) with writable
# scratch areas, runs the command named on the kernel command line in a chroot, reports its exit
# status on the console as STYX_VM_RC=<n>, and powers off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t devtmpfs devtmpfs /dev 2>/dev/null
cmd=$(sed -n 's/.*styx\.cmd=\([^ ]*\).*/\1/p' /proc/cmdline)
cwd=$(sed -n 's/.*styx\.cwd=\([^ ]*\).*/\1/p' /proc/cmdline)
mkdir -p /host
if ! mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 hostroot /host; then
  echo "STYX_VM_RC=125 (cannot mount host root over 9p)"; reboot -f
fi
for d in proc sys dev run tmp mnt var/tmp; do [ -d /host/$d ] || echo "vm: /host/$d missing"; done
# The scratch tmpfs mounts below hide the host's /tmp, /run, /mnt and /var/tmp; when the command's
# working directory (a checkout) lives there, keep it visible through a bind mount.
mkdir -p /orig
mount -o bind /host /orig
mount -t proc proc /host/proc
mount -t sysfs sysfs /host/sys
mount -t devtmpfs devtmpfs /host/dev
mount -t tmpfs -o mode=1777 tmpfs /host/tmp
mount -t tmpfs tmpfs /host/run
mount -t tmpfs tmpfs /host/mnt
mount -t tmpfs -o mode=1777 tmpfs /host/var/tmp
for d in /tmp /run /mnt /var/tmp; do
  case "$cwd" in
    "$d"/*) mkdir -p "/host$cwd" && mount -o bind "/orig$cwd" "/host$cwd" || echo "vm: cannot expose $cwd";;
  esac
done
mkdir -p /host/mnt/out /host/mnt/cache
mount -t 9p -o trans=virtio,version=9p2000.L,rw,msize=512000 out /host/mnt/out || echo "vm: no out share"
# The cachefiles cache must live on ext4/xfs/btrfs (tmpfs: EOPNOTSUPP): the virtio disk.
if [ -b /dev/vda ]; then mount -t ext4 /dev/vda /host/mnt/cache || echo "vm: cannot mount /dev/vda"; fi
if [ -z "$cmd" ]; then
  echo "STYX_VM_RC=126 (no styx.cmd= on the kernel command line)"
else
  chroot /host /bin/sh -c "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp; /bin/sh $cmd"
  rc=$?; echo; echo "STYX_VM_RC=$rc"
fi
sync
umount /host/mnt/cache 2>/dev/null
reboot -f
