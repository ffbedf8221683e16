package io.edgeslm.fleet.internal.rest;

import java.util.List;

/**
 * One page of a list. Pass {@code next} as {@code after} to get the following page; it is null on
 * the last page.
 */
public record PageResponse<T>(List<T> items, String next) {}
