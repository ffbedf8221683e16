package io.edgeslm.fleet.internal.rest;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The problem types ({@link ProblemTypes} keys) an API method answers with beyond those every
 * authenticated call can meet ({@link ApiDocumentation#EVERY_CALL}). The OpenAPI document lists
 * them with their statuses; the contract test calls the running API and fails on a status or type
 * the document does not list, and on one it lists that none of its requests met.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Problems {
  String[] value();
}
