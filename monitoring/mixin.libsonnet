// KataPulse's monitoring mixin: alerts, recording rules and Grafana dashboards for the series the agent
// publishes. Rendered into this folder by generate.sh; import it into kube-prometheus or any mixin setup:
//   local kataPulse = (import 'kata-pulse/monitoring/mixin.libsonnet') + { _config+:: { ... } };
(import 'config.libsonnet') +
(import 'alerts.libsonnet') +
(import 'rules.libsonnet') +
(import 'dashboards.libsonnet')
