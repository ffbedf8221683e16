package io.edgeslm.signing;

/**
 * Receives hashing progress. Called from hashing threads, possibly concurrently, after every buffer
 * (1 MiB); implementations must be thread-safe and cheap (throttle any printing).
 */
@FunctionalInterface
public interface HashProgress {
  HashProgress NONE = (hashed, total) -> {};

  /**
   * @param bytesHashed bytes hashed so far, over all files
   * @param totalBytes bytes to hash in all
   */
  void onProgress(long bytesHashed, long totalBytes);
}
