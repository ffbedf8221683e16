package io.edgeslm.agent.internal.management;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ManagementServerTest {

  @Test
  void prometheusAskingForTextGetsTheTextFormat() {
    // The Accept header Prometheus 2.x sends.
    assertThat(
            ManagementServer.metricsType(
                "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                    + "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"))
        .isEqualTo(ManagementServer.PROMETHEUS_TEXT);
    assertThat(ManagementServer.metricsType("text/html,application/xhtml+xml"))
        .isEqualTo(ManagementServer.PROMETHEUS_TEXT);
  }

  @Test
  void aClientWithoutTextPlainGetsOpenMetrics() {
    assertThat(ManagementServer.metricsType(null)).isEqualTo(ManagementServer.OPEN_METRICS);
    assertThat(ManagementServer.metricsType("*/*")).isEqualTo(ManagementServer.OPEN_METRICS);
    assertThat(ManagementServer.metricsType("application/openmetrics-text"))
        .isEqualTo(ManagementServer.OPEN_METRICS);
  }
}
