package io.edgeslm.fleet.internal.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import io.edgeslm.fleet.BundleInfo;
import io.edgeslm.fleet.FleetConflictException;
import io.edgeslm.fleet.FleetStorageException;
import io.edgeslm.protocol.BundleFile;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.ModelRef;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/** The catalog's database rows; the files themselves live in the bundle store on disk. */
public final class CatalogStore {

  private static final TypeReference<List<BundleFile>> FILES = new TypeReference<>() {};

  private final Db db;

  public CatalogStore(Db db) {
    this.db = db;
  }

  public void insert(BundleInfo b) throws FleetStorageException, FleetConflictException {
    String existing =
        db.tx(
            "storing bundle '" + b.bundleId() + "'",
            c -> {
              try (PreparedStatement check =
                  c.prepareStatement(
                      "SELECT bundle_id FROM bundles WHERE bundle_id = ? OR model_digest = ?")) {
                check.setString(1, b.bundleId());
                check.setString(2, b.model().digest());
                try (ResultSet rs = check.executeQuery()) {
                  if (rs.next()) {
                    return rs.getString(1);
                  }
                }
              }
              try (PreparedStatement ps =
                  c.prepareStatement(
                      "INSERT INTO bundles (bundle_id, model_name, model_version, model_digest,"
                          + " channel, total_bytes, chunk_bytes, files_json, release_json,"
                          + " signer_keys, uploaded_by, uploaded_at)"
                          + " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)")) {
                ps.setString(1, b.bundleId());
                ps.setString(2, b.model().name());
                ps.setLong(3, b.model().version());
                ps.setString(4, b.model().digest());
                ps.setString(5, b.model().channel());
                ps.setLong(6, b.totalBytes());
                ps.setInt(7, b.chunkBytes());
                ps.setString(8, write(b.files()));
                ps.setString(9, b.releaseJson());
                ps.setString(10, String.join(",", new TreeSet<>(b.signerKeyIds())));
                ps.setString(11, b.uploadedBy());
                Db.setTime(ps, 12, b.uploadedAt());
                ps.executeUpdate();
              }
              return null;
            });
    if (existing != null) {
      throw new FleetConflictException(
          "The catalog already holds this bundle as '"
              + existing
              + "' (same id or digest "
              + b.model().digest()
              + "). Use the existing entry.");
    }
  }

  public Optional<BundleInfo> get(String bundleId) throws FleetStorageException {
    return db.run(
        "reading bundle '" + bundleId + "'",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("SELECT * FROM bundles WHERE bundle_id = ?")) {
            ps.setString(1, bundleId);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next() ? Optional.of(row(rs)) : Optional.empty();
            }
          }
        });
  }

  public Page<BundleInfo> list(String after, int limit) throws FleetStorageException {
    int n = Math.max(1, Math.min(limit, NodeStore.MAX_PAGE));
    return db.run(
        "listing bundles",
        c -> {
          List<BundleInfo> rows = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT * FROM bundles WHERE bundle_id > ? ORDER BY bundle_id FETCH FIRST "
                      + (n + 1)
                      + " ROWS ONLY")) {
            ps.setString(1, after == null ? "" : after);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                rows.add(row(rs));
              }
            }
          }
          if (rows.size() > n) {
            rows = rows.subList(0, n);
            return new Page<>(rows, rows.get(n - 1).bundleId());
          }
          return new Page<>(rows, null);
        });
  }

  public boolean delete(String bundleId) throws FleetStorageException {
    return db.run(
        "deleting bundle '" + bundleId + "'",
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("DELETE FROM bundles WHERE bundle_id = ?")) {
            ps.setString(1, bundleId);
            return ps.executeUpdate() > 0;
          }
        });
  }

  private static BundleInfo row(ResultSet rs) throws SQLException {
    String keys = rs.getString("signer_keys");
    return new BundleInfo(
        rs.getString("bundle_id"),
        new ModelRef(
            rs.getString("model_name"),
            rs.getLong("model_version"),
            rs.getString("model_digest"),
            rs.getString("channel")),
        rs.getLong("total_bytes"),
        rs.getInt("chunk_bytes"),
        read(rs.getString("files_json")),
        rs.getString("release_json"),
        keys.isEmpty() ? Set.of() : new TreeSet<>(Arrays.asList(keys.split(","))),
        rs.getString("uploaded_by"),
        Db.time(rs, "uploaded_at"));
  }

  private static String write(List<BundleFile> files) {
    try {
      return Json.mapper().writeValueAsString(files);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("bundle files always serialize", e);
    }
  }

  private static List<BundleFile> read(String json) throws SQLException {
    try {
      return Json.mapper().readValue(json, FILES);
    } catch (JsonProcessingException e) {
      throw new SQLException("stored bundle files are unreadable: " + e.getOriginalMessage(), e);
    }
  }
}
