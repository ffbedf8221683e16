package io.edgeslm.fleet.internal.store;

import io.edgeslm.fleet.FleetConflictException;
import io.edgeslm.fleet.FleetStorageException;
import io.edgeslm.fleet.Role;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/** API bearer tokens. Only the SHA-256 of each secret is stored. */
public final class TokenStore {

  /** A token as listed: its name and role, never its secret. */
  public record TokenInfo(String name, Role role, Instant createdAt) {}

  private final Db db;

  public TokenStore(Db db) {
    this.db = db;
  }

  /** Stores a token's hash; the caller shows the secret once. */
  public void create(String name, Role role, String secret, Instant now)
      throws FleetStorageException, FleetConflictException {
    boolean ok =
        db.tx(
            "creating token '" + name + "'",
            c -> {
              try (PreparedStatement check =
                  c.prepareStatement("SELECT 1 FROM api_tokens WHERE name = ?")) {
                check.setString(1, name);
                try (ResultSet rs = check.executeQuery()) {
                  if (rs.next()) {
                    return false;
                  }
                }
              }
              try (PreparedStatement ps =
                  c.prepareStatement(
                      "INSERT INTO api_tokens (token_sha256, name, role, created_at)"
                          + " VALUES (?,?,?,?)")) {
                ps.setString(1, sha256(secret));
                ps.setString(2, name);
                ps.setString(3, role.key());
                Db.setTime(ps, 4, now);
                ps.executeUpdate();
              }
              return true;
            });
    if (!ok) {
      throw new FleetConflictException(
          "A token named '" + name + "' exists already. Delete it first or choose another name.");
    }
  }

  /** The token whose secret is {@code secret}, if any. */
  public Optional<TokenInfo> find(String secret) throws FleetStorageException {
    String hash = sha256(secret);
    return db.run(
        "checking a token",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT name, role, created_at FROM api_tokens WHERE token_sha256 = ?")) {
            ps.setString(1, hash);
            try (ResultSet rs = ps.executeQuery()) {
              if (!rs.next()) {
                return Optional.empty();
              }
              return Optional.of(
                  new TokenInfo(
                      rs.getString(1), Role.fromKey(rs.getString(2)), Db.time(rs, "created_at")));
            }
          }
        });
  }

  public List<TokenInfo> list() throws FleetStorageException {
    return db.run(
        "listing tokens",
        c -> {
          List<TokenInfo> out = new ArrayList<>();
          try (PreparedStatement ps =
                  c.prepareStatement(
                      "SELECT name, role, created_at FROM api_tokens ORDER BY name");
              ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              out.add(
                  new TokenInfo(
                      rs.getString(1), Role.fromKey(rs.getString(2)), Db.time(rs, "created_at")));
            }
          }
          return out;
        });
  }

  /** Deletes the named token; returns whether it existed. */
  public boolean delete(String name) throws FleetStorageException {
    return db.run(
        "deleting token '" + name + "'",
        c -> {
          try (PreparedStatement ps = c.prepareStatement("DELETE FROM api_tokens WHERE name = ?")) {
            ps.setString(1, name);
            return ps.executeUpdate() > 0;
          }
        });
  }

  /** Lowercase hex SHA-256 of the UTF-8 secret. */
  public static String sha256(String secret) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }
}
