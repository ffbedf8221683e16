package io.edgeslm.fleet.api;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;

/** The REST API of the Quarkus application on PostgreSQL. */
@QuarkusTest
@QuarkusTestResource(
    value = ControllerTestResource.class,
    restrictToAnnotatedClass = true,
    initArgs = @ResourceArg(name = "db", value = "postgresql"))
class ApiPostgresIT extends ApiContract {}
