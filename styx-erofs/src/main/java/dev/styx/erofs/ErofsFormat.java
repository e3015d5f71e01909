package dev.styx.erofs;

/**
 * On-disk constants of EROFS as Linux {@code fs/erofs/erofs_fs.h} defines them (little-endian).
 * Offsets are relative to the start of their structure.
 */
final class ErofsFormat {
  private ErofsFormat() {}

  static final int BLOCK_SHIFT = 12;
  static final int BLOCK_SIZE = 1 << BLOCK_SHIFT;

  /** {@code EROFS_SUPER_OFFSET}: the superblock starts 1 KiB into block 0. */
  static final int SUPER_OFFSET = 1024;

  /** Size of the superblock we write (no extension slots). */
  static final int SUPER_SIZE = 128;

  static final int MAGIC = 0xE0F5E1E2;

  // struct erofs_super_block
  static final int SB_MAGIC = 0;
  static final int SB_CHECKSUM = 4;
  static final int SB_FEATURE_COMPAT = 8;
  static final int SB_BLKSZBITS = 12;
  static final int SB_EXTSLOTS = 13;
  static final int SB_ROOT_NID = 14;
  static final int SB_INOS = 16;
  static final int SB_EPOCH = 24; // "build_time" before 6.15: mtime of compact inodes
  static final int SB_EPOCH_NSEC = 32;
  static final int SB_BLOCKS = 36;
  static final int SB_META_BLKADDR = 40;
  static final int SB_XATTR_BLKADDR = 44;
  static final int SB_UUID = 48;
  static final int SB_VOLUME_NAME = 64;
  static final int SB_FEATURE_INCOMPAT = 80;
  static final int SB_EXTRA_DEVICES = 86;
  static final int SB_DEVT_SLOTOFF = 88;
  static final int SB_DIRBLKBITS = 90;

  static final int COMPAT_SB_CHKSUM = 0x1;
  static final int INCOMPAT_CHUNKED_FILE = 0x4;
  static final int INCOMPAT_DEVICE_TABLE = 0x8;

  // struct erofs_deviceslot (128 bytes)
  static final int DEVT_SLOT_SIZE = 128;
  static final int DEV_TAG = 0;
  static final int DEV_BLOCKS = 64;
  static final int DEV_MAPPED_BLKADDR = 68;

  // inodes: nid = (offset - meta_blkaddr * blksz) / 32
  static final int NID_SHIFT = 5;
  static final int SLOT_SIZE = 1 << NID_SHIFT;
  static final int COMPACT_SIZE = 32;
  static final int EXTENDED_SIZE = 64;

  // i_format: bit 0 version, bits 1..3 datalayout, bit 4 NLINK_1 / DOT_OMITTED (never set here)
  static final int LAYOUT_FLAT_PLAIN = 0;
  static final int LAYOUT_FLAT_INLINE = 2;
  static final int LAYOUT_CHUNK_BASED = 4;

  // both inode versions
  static final int I_FORMAT = 0;
  static final int I_XATTR_ICOUNT = 2;
  static final int I_MODE = 4;
  // compact (32 bytes)
  static final int IC_NLINK = 6;
  static final int IC_SIZE = 8;
  static final int IC_MTIME = 12; // relative to the superblock epoch (6.15+), reserved before
  static final int IC_U = 16;
  static final int IC_INO = 20;
  static final int IC_UID = 24;
  static final int IC_GID = 26;
  // extended (64 bytes)
  static final int IE_SIZE = 8;
  static final int IE_U = 16;
  static final int IE_INO = 20;
  static final int IE_UID = 24;
  static final int IE_GID = 28;
  static final int IE_MTIME = 32;
  static final int IE_MTIME_NSEC = 40;
  static final int IE_NLINK = 44;

  // chunk info in i_u: bits 0..4 chunk blkbits, 0x20 = 8-byte chunk indexes
  static final int CHUNK_FORMAT_BLKBITS_MASK = 0x1F;
  static final int CHUNK_FORMAT_INDEXES = 0x20;
  static final int CHUNK_INDEX_SIZE = 8;
  static final int BLOCK_MAP_ENTRY_SIZE = 4;

  // struct erofs_dirent (12 bytes, packed)
  static final int DIRENT_SIZE = 12;
  static final int DE_NID = 0;
  static final int DE_NAMEOFF = 8;
  static final int DE_FILE_TYPE = 10;
  static final int NAME_MAX = 255;

  // Linux FT_* file types
  static final int FT_REG_FILE = 1;
  static final int FT_DIR = 2;
  static final int FT_SYMLINK = 7;

  // i_mode
  static final int S_IFMT = 0170000;
  static final int S_IFREG = 0100000;
  static final int S_IFDIR = 0040000;
  static final int S_IFLNK = 0120000;

  /** Longest symlink target the kernel reads ({@code PAGE_SIZE - 1}). */
  static final int SYMLINK_MAX = 4095;
}
