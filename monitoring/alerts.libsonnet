// Alerting rules. Each names what broke, what it costs and where to look; thresholds and `for:` are chosen
// for the default 60 s collection interval and a 30 s scrape, and explained beside each rule.
{
  local c = $._config,
  local sel = c.kataPulseSelector,
  // Aggregations drop only the sandbox's labels, keeping every label of the target (job, instance, and
  // what service discovery adds: node, cluster, …).
  local perNode = 'without (%s)' % std.join(', ', c.sandboxLabels),

  prometheusAlerts+:: {
    groups+: [
      {
        name: 'kata-pulse',
        rules: [
          {
            // Five minutes: ten failed scrapes at 30 s, longer than a restart of the agent.
            alert: 'KataPulseDown',
            expr: 'up{%s} == 0' % sel,
            'for': '5m',
            labels: { severity: 'critical' },
            annotations: {
              summary: 'KataPulse cannot be scraped.',
              description: 'KataPulse on {{ $labels.instance }} has not answered a scrape for 5 minutes: the Kata sandboxes of that node are not monitored.',
            },
          },
          {
            // The scrape job itself is gone (service discovery, a renamed job): no KataPulseDown can fire.
            alert: 'KataPulseAbsent',
            expr: 'absent(up{%s})' % sel,
            'for': '15m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'No KataPulse target is scraped.',
              description: 'Prometheus has no target matching {%s}: no Kata node is monitored, and no other KataPulse alert can fire.' % sel,
            },
          },
          {
            // Served, but not collecting: the snapshot's last round is older than `stalledRounds` intervals
            // (or no round has ended that long after start). /healthz fails after 60 s, so under Kubernetes
            // the liveness probe restarts the pod first; this catches the hosts without one.
            alert: 'KataPulseCollectionStalled',
            expr: |||
              (
                time() - kata_pulse_last_collection_timestamp_seconds{%(sel)s}
                  > %(rounds)d * kata_pulse_collection_interval_seconds{%(sel)s}
              )
              or
              (
                kata_pulse_collection_rounds_total{%(sel)s} == 0
                and
                time() - kata_monitor_process_start_time_seconds{%(sel)s}
                  > %(rounds)d * kata_pulse_collection_interval_seconds{%(sel)s}
              )
            ||| % { sel: sel, rounds: c.stalledRounds },
            'for': '5m',
            labels: { severity: 'critical' },
            annotations: {
              summary: 'KataPulse has stopped collecting.',
              description: 'KataPulse on {{ $labels.instance }} has not finished a collection round in %d intervals: its series are stale.' % c.stalledRounds,
            },
          },
          {
            // A round longer than the interval means rounds run back to back and every series is older than
            // the interval promises. Averaged over 15 minutes so that one slow round does not page.
            alert: 'KataPulseCollectionSlow',
            expr: |||
              avg_over_time(kata_pulse_collection_round_duration_seconds{%(sel)s}[15m])
                > kata_pulse_collection_interval_seconds{%(sel)s}
            ||| % { sel: sel },
            'for': '15m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'KataPulse collection rounds take longer than the interval.',
              description: 'Collection rounds on {{ $labels.instance }} take {{ $value | humanizeDuration }} on average, more than the collection interval: shims answer slowly or time out (kata_pulse_shim_scrape_errors_total), or the node has more sandboxes than the agent can collect in time.',
            },
          },
          {
            // Several rounds: a new sandbox is collected within a second, and one failed round can be a shim
            // busy starting a container. The sandbox keeps its last good series meanwhile.
            alert: 'KataPulseSandboxCollectionFailing',
            expr: 'kata_pulse_sandbox_up{%s} == 0' % sel,
            'for': c.sandboxFailingFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'A Kata sandbox cannot be collected.',
              description: 'The shim of sandbox {{ $labels.sandbox_id }} (pod {{ $labels.cri_namespace }}/{{ $labels.cri_name }}) on {{ $labels.instance }} has failed every collection for %s; its series are its last good ones. The reason is in /sandboxes?format=json (last_error) and kata_pulse_shim_scrape_errors_total.' % c.sandboxFailingFor,
            },
          },
          {
            // Many sandboxes failing at once is a node's problem (the agent's access to the sockets, an
            // overloaded host, a runtime upgrade), not a tenant's: critical, and at least a few sandboxes so
            // that one of two failing does not page.
            alert: 'KataPulseNodeSandboxesFailing',
            expr: |||
              (
                sum %(perNode)s (1 - kata_pulse_sandbox_up{%(sel)s})
                  / count %(perNode)s (kata_pulse_sandbox_up{%(sel)s})
              ) > %(share)g
              and
              sum %(perNode)s (1 - kata_pulse_sandbox_up{%(sel)s}) >= %(minimum)d
            ||| % { sel: sel, perNode: perNode, share: c.nodeFailingShare, minimum: c.nodeFailingMinimum },
            'for': c.sandboxFailingFor,
            labels: { severity: 'critical' },
            annotations: {
              summary: 'Many Kata sandboxes of a node cannot be collected.',
              description: '{{ $value | humanizePercentage }} of the sandboxes on {{ $labels.instance }} have failed collection for %s.' % c.sandboxFailingFor,
            },
          },
          {
            // A body over a limit (series, label, line or body size) is refused whole: a shim misbehaving, or
            // a tenant making its guest emit a series bomb. Any occurrence is worth a look.
            alert: 'KataPulseSandboxOverLimits',
            expr: 'increase(kata_pulse_shim_scrape_errors_total{%s, reason=~"limit|body_too_large"}[10m]) > 0' % sel,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'A shim body exceeds KataPulse limits.',
              description: 'On {{ $labels.instance }}, shim bodies were refused for {{ $labels.reason }} in the last 10 minutes (series, labels or size over the limits): those sandboxes keep their previous series. kata_pulse_sandbox_up == 0 names them.',
            },
          },
          {
            // Samples left out while relabelling: duplicate series in a shim's body, or families named as the
            // agent's own. The rest of the body is kept, so warning, not critical.
            alert: 'KataPulseSamplesDropped',
            expr: 'increase(kata_pulse_dropped_samples_total{%s}[10m]) > 0' % sel,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'KataPulse drops shim samples.',
              description: 'On {{ $labels.instance }}, {{ $value | humanize }} shim samples were left out in the last 10 minutes ({{ $labels.reason }}).',
            },
          },
          {
            // Sandboxes disagree on a family's TYPE (mixed runtimes, versions): the minority's samples of that
            // family are left out for as long as it lasts, so only a lasting conflict alerts.
            alert: 'KataPulseTypeConflicts',
            expr: 'kata_pulse_type_conflicts{%s} > 0' % sel,
            'for': '15m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Kata sandboxes disagree on metric types.',
              description: "{{ $value }} sandbox families on {{ $labels.instance }} are left out because their TYPE differs from the other sandboxes': shims of different runtimes or versions.",
            },
          },
          {
            // The runtime-rs guard: shims that abort on /metrics (kata-containers#13708) are never asked.
            // Nothing is broken, but those pods are not monitored: info, after an hour.
            alert: 'KataPulseSandboxesSkipped',
            expr: 'sum %s (kata_pulse_sandbox_skipped{%s}) > 0' % [perNode, sel],
            'for': '1h',
            labels: { severity: 'info' },
            annotations: {
              summary: 'Some Kata sandboxes are not monitored.',
              description: '{{ $value }} runtime-rs sandboxes with hypervisor {{ $labels.hypervisor }} on {{ $labels.instance }} are not collected: their shims abort on /metrics (kata-containers#13708). See --skip-metrics-hypervisors.',
            },
          },
          {
            // Without CRI, series lack pod names and namespaces (cri_*, and the cAdvisor series' namespace and
            // pod), so per-pod dashboards and alerts lose them. Five minutes outlasts a runtime restart.
            alert: 'KataPulseCRIUnreachable',
            expr: 'kata_pulse_cri_up{%s} == 0' % sel,
            'for': '5m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'KataPulse cannot reach the CRI runtime.',
              description: 'KataPulse on {{ $labels.instance }} has had no answer from the CRI runtime for 5 minutes: new sandboxes have no pod name or namespace, and per-container rows are missing.',
            },
          },
          {
            // One failed write is retried at the next round with the previous file intact; failures over
            // ten minutes are a full or read-only disk or a missing directory.
            alert: 'KataPulseTextfileWritesFailing',
            expr: 'rate(kata_pulse_textfile_write_failures_total{%s}[5m]) > 0' % sel,
            'for': '10m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'KataPulse cannot write its textfile snapshot.',
              description: "KataPulse on {{ $labels.instance }} has failed to write its textfile snapshot for 10 minutes: node_exporter serves the last file written. The agent's log says why (disk full, read-only, missing directory).",
            },
          },
          {
            // Through node_exporter, a stale file is served as if it were fresh; its own timestamp tells.
            alert: 'KataPulseTextfileStale',
            expr: |||
              time() - kata_pulse_textfile_last_write_timestamp_seconds{%(sel)s}
                > %(rounds)d * kata_pulse_collection_interval_seconds{%(sel)s}
            ||| % { sel: sel, rounds: c.deliveryStaleRounds },
            'for': '5m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'The KataPulse textfile snapshot is stale.',
              description: 'The textfile snapshot of {{ $labels.instance }} was last written {{ $value | humanizeDuration }} ago, more than %d collection intervals: the agent is stopped or cannot write.' % c.deliveryStaleRounds,
            },
          },
          {
            alert: 'KataPulsePushgatewayPushesFailing',
            expr: 'rate(kata_pulse_pushgateway_push_failures_total{%s}[5m]) > 0' % sel,
            'for': '10m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'KataPulse cannot push to the Pushgateway.',
              description: 'Pushes from {{ $labels.instance }} to the Pushgateway have failed for 10 minutes: the Pushgateway serves the last snapshot pushed.',
            },
          },
          {
            // Requests wait and the receiver accepts none: the central store falls behind (the queue keeps
            // the data, up to its bounds).
            alert: 'KataPulseRemoteWriteNotDelivering',
            expr: |||
              kata_pulse_remote_write_queue_requests{%(sel)s} > 0
              and
              rate(kata_pulse_remote_write_samples_total{%(sel)s}[5m]) == 0
            ||| % { sel: sel },
            'for': '10m',
            labels: { severity: 'critical' },
            annotations: {
              summary: 'KataPulse remote write delivers nothing.',
              description: 'KataPulse on {{ $labels.instance }} has had {{ $value }} write requests queued for {{ $labels.url }} and none accepted for 10 minutes: the receiver is down, refuses the credentials, or is unreachable. Data waits in the queue until its bounds drop it.',
            },
          },
          {
            // Delivering, but slower than the agent produces: the queue will fill and drop the oldest.
            alert: 'KataPulseRemoteWriteQueueGrowing',
            expr: |||
              kata_pulse_remote_write_queue_requests{%(sel)s} > %(requests)d
              and
              deriv(kata_pulse_remote_write_queue_bytes{%(sel)s}[15m]) > 0
            ||| % { sel: sel, requests: c.remoteWriteQueueRequests },
            'for': '15m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'The KataPulse remote write queue grows.',
              description: 'The queue of {{ $labels.url }} on {{ $labels.instance }} has grown for 15 minutes ({{ $value }} requests waiting): the receiver is not keeping up or not answering.',
            },
          },
          {
            // Lost data: the queue over its bounds (queue_full, too_old), files that failed their checksum
            // (corrupt), a receiver refusing for good (rejected), or a queue that could not be written.
            alert: 'KataPulseRemoteWriteSamplesDropped',
            expr: 'increase(kata_pulse_remote_write_dropped_samples_total{%s}[10m]) > 0' % sel,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'KataPulse remote write drops samples.',
              description: '{{ $value | humanize }} samples for {{ $labels.url }} on {{ $labels.instance }} were dropped unsent in the last 10 minutes ({{ $labels.reason }}): the central store misses them.',
            },
          },
          {
            // The previous configuration stays in force, but the file on disk is not what is served.
            alert: 'KataPulseWebConfigReloadFailed',
            expr: 'kata_pulse_web_config_last_reload_successful{%s} == 0' % sel,
            'for': '5m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'KataPulse cannot load its web configuration.',
              description: 'KataPulse on {{ $labels.instance }} failed to reload --web.config.file: it keeps serving with the previous TLS and users.',
            },
          },
        ],
      },
    ],
  },
}
