package dev.styx.daemon;

import dev.styx.erofs.ErofsImage;
import java.io.IOException;

/** Turns an image tree into EROFS image bytes (the styx-erofs writer). */
@FunctionalInterface
public interface ImageEncoder {
  byte[] encode(ErofsImage image) throws IOException;
}
