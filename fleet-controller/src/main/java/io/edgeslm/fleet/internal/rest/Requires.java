package io.edgeslm.fleet.internal.rest;

import io.edgeslm.fleet.Role;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/** The least role a resource method needs; every {@code /api} method carries one. */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Requires {
  Role value();
}
