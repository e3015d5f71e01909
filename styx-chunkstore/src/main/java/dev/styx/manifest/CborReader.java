package dev.styx.manifest;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;

/** Strict token-by-token reading of the fixed CBOR layouts of this package. */
final class CborReader {
  private final JsonParser p;
  private final String what;

  CborReader(JsonParser p, String what) {
    this.p = p;
    this.what = what;
  }

  JsonToken next() throws IOException {
    JsonToken t = p.nextToken();
    if (t == null) {
      throw new ManifestFormatException(what + " is truncated");
    }
    return t;
  }

  JsonToken current() {
    return p.currentToken();
  }

  void expect(JsonToken want) throws IOException {
    JsonToken t = next();
    if (t != want) {
      throw new ManifestFormatException(what + ": expected " + want + ", got " + t);
    }
  }

  void field(String name) throws IOException {
    expect(JsonToken.FIELD_NAME);
    if (!name.equals(p.currentName())) {
      throw new ManifestFormatException(
          what + ": expected field \"" + name + "\", got \"" + p.currentName() + "\"");
    }
  }

  String currentString() throws IOException {
    if (p.currentToken() != JsonToken.VALUE_STRING) {
      throw new ManifestFormatException(what + ": expected text, got " + p.currentToken());
    }
    return p.getText();
  }

  String nextString() throws IOException {
    next();
    return currentString();
  }

  long nextLong() throws IOException {
    if (next() != JsonToken.VALUE_NUMBER_INT) {
      throw new ManifestFormatException(what + ": expected an integer, got " + p.currentToken());
    }
    if (p.getNumberType() != JsonParser.NumberType.INT
        && p.getNumberType() != JsonParser.NumberType.LONG) {
      throw new ManifestFormatException(what + ": integer out of range");
    }
    long v = p.getLongValue();
    if (v < 0) {
      throw new ManifestFormatException(what + ": negative integer " + v);
    }
    return v;
  }

  boolean nextBoolean() throws IOException {
    JsonToken t = next();
    if (t == JsonToken.VALUE_TRUE) {
      return true;
    }
    if (t == JsonToken.VALUE_FALSE) {
      return false;
    }
    throw new ManifestFormatException(what + ": expected a boolean, got " + t);
  }

  byte[] nextBinary() throws IOException {
    if (next() != JsonToken.VALUE_EMBEDDED_OBJECT) {
      throw new ManifestFormatException(what + ": expected a byte string, got " + p.currentToken());
    }
    return p.getBinaryValue();
  }

  String stringField(String name) throws IOException {
    field(name);
    return nextString();
  }

  long longField(String name) throws IOException {
    field(name);
    return nextLong();
  }

  void expectString(String name, String value) throws IOException {
    String v = stringField(name);
    if (!value.equals(v)) {
      throw new ManifestFormatException(
          what + ": field \"" + name + "\" is \"" + v + "\", want \"" + value + "\"");
    }
  }
}
