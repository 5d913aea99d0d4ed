// The mixin's settings. Override them as any mixin's:
//   (import 'kata-pulse/mixin.libsonnet') + { _config+:: { kataPulseSelector: 'job="kata"' } }
{
  _config+:: {
    // Selects the series scraped from the agents' /metrics. The Debian package's scrape example, the
    // ServiceMonitor and the PodMonitor (jobLabel) name the job kata-pulse, as does remote write's default
    // external label. Where the series arrive through node_exporter's textfile collector or a Pushgateway,
    // name that job too, e.g. 'job=~"kata-pulse|node"'.
    kataPulseSelector: 'job="kata-pulse"',

    // The labels that name one sandbox (one pod) beside those of its agent's target (job, instance, …):
    // per-node aggregations drop these and keep the rest.
    sandboxLabels: ['sandbox_id', 'cri_uid', 'cri_namespace', 'cri_name'],

    // Alert thresholds, each explained where it is used (alerts.libsonnet).
    sandboxFailingFor: '10m',
    nodeFailingShare: 0.25,
    nodeFailingMinimum: 2,
    stalledRounds: 3,
    deliveryStaleRounds: 3,
    remoteWriteQueueRequests: 10,

    // The USER_HZ of the hosts (`getconf CLK_TCK`): `*_proc_stat` counts CPU time in clock ticks.
    clockTicksPerSecond: 100,

    // Grafana.
    dashboardTags: ['kata-pulse', 'kata-containers'],
    dashboardTimezone: 'utc',
    dashboardRefresh: '30s',
    // The window of rates; Grafana's $__rate_interval (at least four scrape intervals).
    rateInterval: '$__rate_interval',
  },
}
