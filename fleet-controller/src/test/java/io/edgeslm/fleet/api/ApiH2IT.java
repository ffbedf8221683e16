package io.edgeslm.fleet.api;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;

/** The REST API of the Quarkus application on the embedded H2 database. */
@QuarkusTest
@QuarkusTestResource(value = ControllerTestResource.class, restrictToAnnotatedClass = true)
class ApiH2IT extends ApiContract {}
