package io.edgeslm.signing.internal.crypto;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The DSSE v1 pre-authentication encoding (secure-systems-lab/dsse, protocol.md): {@code "DSSEv1"
 * SP LEN(type) SP type SP LEN(body) SP body}, lengths as ASCII decimal byte counts. Signatures
 * cover these bytes, never the JSON envelope, so the payload is authenticated before it is parsed.
 */
public final class Dsse {
  private Dsse() {}

  public static byte[] pae(String payloadType, byte[] body) {
    byte[] type = payloadType.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream(type.length + body.length + 32);
    out.writeBytes(
        ("DSSEv1 " + type.length + " " + payloadType + " " + body.length + " ")
            .getBytes(StandardCharsets.UTF_8));
    out.writeBytes(body);
    return out.toByteArray();
  }
}
