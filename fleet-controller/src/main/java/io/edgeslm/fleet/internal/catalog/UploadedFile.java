package io.edgeslm.fleet.internal.catalog;

import java.nio.file.Path;

/**
 * One file of an upload as the HTTP layer received it.
 *
 * @param name the bundle-relative path the client gave (untrusted)
 * @param path where the HTTP layer spooled its bytes
 */
public record UploadedFile(String name, Path path) {}
