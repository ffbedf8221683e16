package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.edgeslm.protocol.internal.check.Checks;

/**
 * The identity of a model bundle, as its signed {@code release.json} states it.
 *
 * @param name model name, an identifier of at most 128 characters
 * @param version the release's monotonically increasing version, at least 1
 * @param digest the bundle's digest, {@code sha256:} and 64 lowercase hex digits
 * @param channel release channel (e.g. {@code stable}); optional
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ModelRef(
    String name, @JsonProperty(required = true) long version, String digest, String channel) {

  public ModelRef {
    Checks.identifier("model.name", name, 128);
    Checks.range("model.version", version, 1, Long.MAX_VALUE);
    Checks.digest("model.digest", digest);
    Checks.optionalIdentifier("model.channel", channel, 64);
  }

  /** A reference without a channel. */
  public static ModelRef of(String name, long version, String digest) {
    return new ModelRef(name, version, digest, null);
  }
}
