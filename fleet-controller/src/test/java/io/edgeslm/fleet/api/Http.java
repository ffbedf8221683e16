package io.edgeslm.fleet.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

/**
 * A small JSON-over-HTTP client for API tests; each answer can be handed to a {@link Recorder},
 * which the API contract test uses to see which documented responses its requests met.
 */
final class Http {

  static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient client = HttpClient.newHttpClient();
  private final URI base;
  private final Recorder recorder;

  /** Told of every answer: the request's method and path (with its query), and the reply. */
  interface Recorder {
    void record(String method, String path, Reply reply);
  }

  Http(URI base) {
    this(base, (method, path, reply) -> {});
  }

  Http(URI base, Recorder recorder) {
    this.base = base;
    this.recorder = recorder;
  }

  record Reply(int status, String contentType, String body) {
    JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (Exception e) {
        throw new AssertionError("not JSON (" + status + "): " + body, e);
      }
    }
  }

  Reply send(String method, String path, String token, String jsonBody) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    if (jsonBody != null) {
      b.header("Content-Type", "application/json");
      b.method(method, HttpRequest.BodyPublishers.ofString(jsonBody));
    } else {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    }
    return reply(method, path, client.send(b.build(), HttpResponse.BodyHandlers.ofString()));
  }

  Reply get(String path, String token) throws Exception {
    return send("GET", path, token, null);
  }

  /** Uploads files as multipart parts named 'file', each with its file name. */
  Reply upload(String path, String token, List<Path> files) throws Exception {
    return upload(path, token, files, null);
  }

  /** Uploads files as multipart parts named 'file', with an Upload-Id header unless null. */
  Reply upload(String path, String token, List<Path> files, String uploadId) throws Exception {
    String boundary = "b" + UUID.randomUUID();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Path f : files) {
      out.write(
          ("--"
                  + boundary
                  + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\""
                  + f.getFileName()
                  + "\"\r\nContent-Type: application/octet-stream\r\n\r\n")
              .getBytes(StandardCharsets.UTF_8));
      out.write(Files.readAllBytes(f));
      out.write("\r\n".getBytes(StandardCharsets.UTF_8));
    }
    out.write(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
    HttpRequest.Builder b =
        HttpRequest.newBuilder(base.resolve(path))
            .header("Content-Type", "multipart/form-data; boundary=" + boundary)
            .POST(HttpRequest.BodyPublishers.ofByteArray(out.toByteArray()));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    if (uploadId != null) {
      b.header("Upload-Id", uploadId);
    }
    return reply("POST", path, client.send(b.build(), HttpResponse.BodyHandlers.ofString()));
  }

  /** A streamed answer: its status, content type and body as it arrives. */
  record Streamed(int statusCode, String contentType, java.io.InputStream body) {}

  /**
   * Sends {@code jsonBody} with {@code Accept: text/event-stream} and returns the body unread, so
   * that events can be read as they arrive. A refusal (a problem document) is read whole first, so
   * that its type is recorded like any other answer's.
   */
  Streamed stream(String path, String token, String jsonBody) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(base.resolve(path))
            .header("Content-Type", "application/json")
            .header("Accept", "text/event-stream")
            .POST(HttpRequest.BodyPublishers.ofString(jsonBody));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    HttpResponse<java.io.InputStream> r =
        client.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
    String type = r.headers().firstValue("Content-Type").orElse("");
    if (type.startsWith("application/problem+json")) {
      byte[] body;
      try (java.io.InputStream in = r.body()) {
        body = in.readAllBytes();
      }
      recorder.record(
          "POST", path, new Reply(r.statusCode(), type, new String(body, StandardCharsets.UTF_8)));
      return new Streamed(r.statusCode(), type, new java.io.ByteArrayInputStream(body));
    }
    recorder.record("POST", path, new Reply(r.statusCode(), type, ""));
    return new Streamed(r.statusCode(), type, r.body());
  }

  private Reply reply(String method, String path, HttpResponse<String> r) {
    Reply reply =
        new Reply(r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), r.body());
    recorder.record(method, path, reply);
    return reply;
  }
}
