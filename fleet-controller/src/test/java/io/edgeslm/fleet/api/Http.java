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

/** A small JSON-over-HTTP client for API tests. */
final class Http {

  static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient client = HttpClient.newHttpClient();
  private final URI base;

  Http(URI base) {
    this.base = base;
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
    return reply(client.send(b.build(), HttpResponse.BodyHandlers.ofString()));
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
    return reply(client.send(b.build(), HttpResponse.BodyHandlers.ofString()));
  }

  private static Reply reply(HttpResponse<String> r) {
    return new Reply(r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), r.body());
  }
}
