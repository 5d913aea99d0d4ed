// Grafana dashboards: the fleet, one node, one pod. Plain dashboard JSON (no grafonnet), every panel on the
// data source chosen in the `datasource` variable, every query restricted by the `job` and `instance`
// variables. Every query uses series the agent publishes or the recording rules of rules.libsonnet.
local grafana = import 'grafana.libsonnet';

{
  local c = $._config,
  local agent = 'job=~"$job", instance=~"$instance"',
  local pod = agent + ', sandbox_id=~"$sandbox"',
  local kataPod = 'id=~"/kata/.+"',
  local rate = c.rateInterval,

  local jobVariable = grafana.queryVariable('job', 'Job', 'label_values(kata_pulse_build_info, job)', multi=true),
  local instanceVariable(multi) = grafana.queryVariable(
    'instance', 'Node', 'label_values(kata_pulse_build_info{job=~"$job"}, instance)', multi=multi
  ),

  local dashboard(uid, title, description, variables, panels) = grafana.dashboard(
    uid=uid,
    title=title,
    description=description,
    tags=c.dashboardTags,
    timezone=c.dashboardTimezone,
    refresh=c.dashboardRefresh,
    variables=[grafana.datasourceVariable, jobVariable] + variables,
    panels=grafana.layout(panels)
  ),

  grafanaDashboards+:: {
    'kata-pulse-fleet.json': dashboard(
      'kata-pulse-fleet',
      'KataPulse / Fleet',
      'Every Kata node KataPulse collects: sandboxes, failures, collection time, the agents and what Kata costs.',
      [instanceVariable(true)],
      [
        grafana.row('Fleet'),
        grafana.stat('Nodes', 'count(kata_pulse_build_info{%s})' % agent, description='Agents reporting.'),
        grafana.stat('Agents down', 'count(up{%s} == 0) or vector(0)' % agent, thresholds=[1]),
        grafana.stat('Sandboxes up', 'sum(instance:kata_pulse_sandboxes_up:sum{%s})' % agent),
        grafana.stat('Sandboxes failing', 'sum(instance:kata_pulse_sandboxes_failing:sum{%s})' % agent, thresholds=[1]),
        grafana.stat('Sandboxes skipped',
                     'sum(instance:kata_pulse_sandboxes_skipped:sum{%s}) or vector(0)' % agent,
                     description='runtime-rs sandboxes whose shim would abort on /metrics (--skip-metrics-hypervisors).'),
        grafana.stat('Alerts firing', 'count(ALERTS{alertname=~"KataPulse.*", alertstate="firing", %s}) or vector(0)' % agent, thresholds=[1]),
        grafana.stat('Kata memory overhead',
                     'sum(instance:kata_overhead_memory_bytes:sum{%s})' % agent,
                     unit='bytes',
                     description='Host resident memory of VMMs, shims and virtiofsd beyond what the guests use.'),
        grafana.stat('Kata CPU overhead',
                     'sum(instance:kata_overhead_cpu_seconds:rate5m{%s})' % agent,
                     unit='short',
                     description='Host CPU (cores) of VMMs, shims and virtiofsd beyond what the guests use.'),
        grafana.row('Collection'),
        grafana.timeseries('Sandboxes per node', [
          grafana.target('instance:kata_pulse_sandboxes_up:sum{%s}' % agent, '{{instance}} up'),
          grafana.target('instance:kata_pulse_sandboxes_failing:sum{%s}' % agent, '{{instance}} failing'),
        ]),
        grafana.timeseries('Failing share', [
          grafana.target('instance:kata_pulse_sandboxes_failing:ratio{%s}' % agent, '{{instance}}'),
        ], unit='percentunit'),
        grafana.timeseries('Collection round duration', [
          grafana.target('kata_pulse_collection_round_duration_seconds{%s}' % agent, '{{instance}}'),
          grafana.target('max(kata_pulse_collection_interval_seconds{%s})' % agent, 'interval'),
        ], unit='s'),
        grafana.timeseries('Shim fetch time, 99th percentile', [
          grafana.target('histogram_quantile(0.99, sum by (job, instance, le) (rate(kata_monitor_scrape_durations_histogram_milliseconds_bucket{%s}[%s])))' % [agent, rate], '{{instance}}'),
        ], unit='ms'),
        grafana.timeseries('Shim fetch errors', [
          grafana.target('sum by (reason) (rate(kata_pulse_shim_scrape_errors_total{%s}[%s]))' % [agent, rate], '{{reason}}'),
        ], unit='reqps'),
        grafana.timeseries('Samples left out', [
          grafana.target('sum by (reason) (rate(kata_pulse_dropped_samples_total{%s}[%s]))' % [agent, rate], '{{reason}}'),
          grafana.target('sum(kata_pulse_type_conflicts{%s})' % agent, 'type conflicts (families)'),
        ]),
        grafana.row('Agents'),
        grafana.table('Agents', [
          grafana.target('kata_pulse_build_info{%s}' % agent, 'version', instant=true, format='table'),
          grafana.target('instance:kata_pulse_sandboxes_up:sum{%s}' % agent, 'sandboxes', instant=true, format='table'),
          grafana.target('kata_pulse_collection_round_duration_seconds{%s}' % agent, 'round', instant=true, format='table'),
          grafana.target('kata_monitor_process_resident_memory_bytes{%s}' % agent, 'memory', instant=true, format='table'),
        ], columns=['instance', 'version']),
        grafana.timeseries('Agent memory', [
          grafana.target('kata_monitor_process_resident_memory_bytes{%s}' % agent, '{{instance}}'),
        ], unit='bytes'),
        grafana.timeseries('Agent CPU', [
          grafana.target('rate(kata_monitor_process_cpu_seconds_total{%s}[%s])' % [agent, rate], '{{instance}}'),
        ], unit='short'),
        grafana.row('What Kata costs'),
        grafana.timeseries('Host memory of Kata processes and guest use, per node', [
          grafana.target('instance:kata_host_resident_memory_bytes:sum{%s}' % agent, '{{instance}} VMM+shim+virtiofsd'),
          grafana.target('instance:kata_guest_memory_used_bytes:sum{%s}' % agent, '{{instance}} guests'),
          grafana.target('instance:kata_overhead_memory_bytes:sum{%s}' % agent, '{{instance}} overhead'),
        ], unit='bytes'),
        grafana.timeseries('Host CPU of Kata processes and guest use, per node', [
          grafana.target('instance:kata_host_cpu_seconds:rate5m{%s}' % agent, '{{instance}} VMM+shim+virtiofsd'),
          grafana.target('instance:kata_guest_cpu_seconds:rate5m{%s}' % agent, '{{instance}} guests'),
          grafana.target('instance:kata_overhead_cpu_seconds:rate5m{%s}' % agent, '{{instance}} overhead'),
        ], unit='short'),
        grafana.row('Delivery'),
        grafana.timeseries('Remote write: samples accepted and queued requests', [
          grafana.target('sum by (instance, url) (rate(kata_pulse_remote_write_samples_total{%s}[%s]))' % [agent, rate], '{{instance}} {{url}} accepted/s'),
          grafana.target('sum by (instance, url) (kata_pulse_remote_write_queue_requests{%s})' % agent, '{{instance}} {{url}} queued'),
        ]),
        grafana.timeseries('Remote write: samples dropped', [
          grafana.target('sum by (instance, url, reason) (rate(kata_pulse_remote_write_dropped_samples_total{%s}[%s]))' % [agent, rate], '{{instance}} {{reason}}'),
        ]),
        grafana.timeseries('Textfile and Pushgateway failures', [
          grafana.target('rate(kata_pulse_textfile_write_failures_total{%s}[%s])' % [agent, rate], '{{instance}} textfile'),
          grafana.target('rate(kata_pulse_pushgateway_push_failures_total{%s}[%s])' % [agent, rate], '{{instance}} pushgateway'),
        ]),
      ]
    ),

    'kata-pulse-node.json': dashboard(
      'kata-pulse-node',
      'KataPulse / Node',
      'One Kata node: each sandbox, its collection, and its CPU, memory, network and disk from the guest and the cAdvisor series.',
      [instanceVariable(false)],
      [
        grafana.row('Node'),
        grafana.stat('Sandboxes up', 'instance:kata_pulse_sandboxes_up:sum{%s}' % agent),
        grafana.stat('Sandboxes failing', 'instance:kata_pulse_sandboxes_failing:sum{%s}' % agent, thresholds=[1]),
        grafana.stat('Last round', 'kata_pulse_collection_round_duration_seconds{%s}' % agent, unit='s'),
        grafana.stat('Last round ended',
                     'time() - kata_pulse_last_collection_timestamp_seconds{%s}' % agent,
                     unit='s',
                     description='Seconds since the last collection round ended.'),
        grafana.stat('CRI up',
                     'kata_pulse_cri_up{%s}' % agent,
                     description='Whether the CRI runtime answers (pod names and namespaces).'),
        grafana.stat('Agent memory', 'kata_monitor_process_resident_memory_bytes{%s}' % agent, unit='bytes'),
        grafana.row('Sandboxes'),
        grafana.table('Sandboxes', [
          grafana.target('kata_pulse_sandbox_up{%s}' % agent, 'up', instant=true, format='table'),
          grafana.target('time() - kata_pulse_sandbox_last_success_timestamp_seconds{%s}' % agent, 'since success', instant=true, format='table'),
          grafana.target('kata_pulse_sandbox_samples{%s}' % agent, 'samples', instant=true, format='table'),
          grafana.target('sandbox:kata_guest_cpu_seconds:rate5m{%s}' % agent, 'guest CPU', instant=true, format='table'),
          grafana.target('sandbox:kata_guest_memory_used_bytes{%s}' % agent, 'guest memory', instant=true, format='table'),
          grafana.target('sandbox:kata_overhead_memory_bytes{%s}' % agent, 'overhead memory', instant=true, format='table'),
        ], columns=['sandbox_id', 'cri_namespace', 'cri_name'], width=24),
        grafana.row('Guests (cAdvisor series)'),
        grafana.timeseries('CPU', [
          grafana.target('rate(container_cpu_usage_seconds_total{%s, %s}[%s])' % [agent, kataPod, rate], '{{namespace}}/{{pod}} {{id}}'),
        ], unit='short'),
        grafana.timeseries('Memory working set', [
          grafana.target('container_memory_working_set_bytes{%s, %s}' % [agent, kataPod], '{{namespace}}/{{pod}} {{id}}'),
        ], unit='bytes'),
        grafana.timeseries('Network', [
          grafana.target('rate(container_network_receive_bytes_total{%s, %s}[%s])' % [agent, kataPod, rate], '{{pod}} {{id}} receive'),
          grafana.target('-rate(container_network_transmit_bytes_total{%s, %s}[%s])' % [agent, kataPod, rate], '{{pod}} {{id}} transmit'),
        ], unit='Bps'),
        grafana.timeseries('Disk', [
          grafana.target('sum by (id, pod) (rate(container_fs_reads_bytes_total{%s, %s}[%s]))' % [agent, kataPod, rate], '{{pod}} {{id}} read'),
          grafana.target('-sum by (id, pod) (rate(container_fs_writes_bytes_total{%s, %s}[%s]))' % [agent, kataPod, rate], '{{pod}} {{id}} write'),
        ], unit='Bps'),
        grafana.row('Guests (Kata series)'),
        grafana.timeseries('Guest load', [
          grafana.target('kata_guest_load{%s, item="load1"}' % agent, '{{cri_name}} {{sandbox_id}}'),
        ]),
        grafana.timeseries('Guest memory used', [
          grafana.target('sandbox:kata_guest_memory_used_bytes{%s}' % agent, '{{cri_name}} {{sandbox_id}}'),
        ], unit='bytes'),
        grafana.row('What Kata costs, per sandbox'),
        grafana.timeseries('Memory overhead', [
          grafana.target('sandbox:kata_overhead_memory_bytes{%s}' % agent, '{{cri_name}} {{sandbox_id}}'),
        ], unit='bytes'),
        grafana.timeseries('CPU overhead', [
          grafana.target('sandbox:kata_overhead_cpu_seconds:rate5m{%s}' % agent, '{{cri_name}} {{sandbox_id}}'),
        ], unit='short'),
      ]
    ),

    'kata-pulse-pod.json': dashboard(
      'kata-pulse-pod',
      'KataPulse / Pod',
      'One Kata pod (sandbox): its collection, its guest, and what its VMM, shim and virtiofsd cost on the host.',
      [
        instanceVariable(true),
        grafana.queryVariable('namespace', 'Namespace', 'label_values(kata_pulse_sandbox_up{%s}, cri_namespace)' % agent, multi=true),
        grafana.queryVariable('pod', 'Pod', 'label_values(kata_pulse_sandbox_up{%s, cri_namespace=~"$namespace"}, cri_name)' % agent, multi=true),
        grafana.queryVariable('sandbox', 'Sandbox', 'label_values(kata_pulse_sandbox_up{%s, cri_namespace=~"$namespace", cri_name=~"$pod"}, sandbox_id)' % agent, multi=false, includeAll=false),
      ],
      [
        grafana.row('Collection'),
        grafana.stat('Collected', 'kata_pulse_sandbox_up{%s}' % pod, description='1 when the last collection of its shim succeeded.'),
        grafana.stat('Since last success', 'time() - kata_pulse_sandbox_last_success_timestamp_seconds{%s}' % pod, unit='s'),
        grafana.stat('Samples', 'kata_pulse_sandbox_samples{%s}' % pod),
        grafana.stat('Memory overhead', 'sandbox:kata_overhead_memory_bytes{%s}' % pod, unit='bytes'),
        grafana.stat('CPU overhead', 'sandbox:kata_overhead_cpu_seconds:rate5m{%s}' % pod, unit='short'),
        grafana.row('Host cost'),
        grafana.timeseries('Host resident memory by process, and the guest', [
          grafana.target('sandbox:kata_vmm_resident_memory_bytes{%s}' % pod, 'VMM'),
          grafana.target('sandbox:kata_shim_resident_memory_bytes{%s}' % pod, 'shim'),
          grafana.target('sandbox:kata_virtiofsd_resident_memory_bytes{%s}' % pod, 'virtiofsd'),
          grafana.target('sandbox:kata_guest_memory_used_bytes{%s}' % pod, 'guest used'),
        ], unit='bytes'),
        grafana.timeseries('Host CPU by process, and the guest', [
          grafana.target('sandbox:kata_vmm_cpu_seconds:rate5m{%s}' % pod, 'VMM'),
          grafana.target('sandbox:kata_shim_cpu_seconds:rate5m{%s}' % pod, 'shim'),
          grafana.target('sandbox:kata_virtiofsd_cpu_seconds:rate5m{%s}' % pod, 'virtiofsd'),
          grafana.target('sandbox:kata_guest_cpu_seconds:rate5m{%s}' % pod, 'guest busy'),
        ], unit='short'),
        grafana.row('Guest'),
        grafana.timeseries('Guest memory', [
          grafana.target('kata_guest_meminfo{%s, item=~"mem_total|mem_available|cached"}' % pod, '{{item}}'),
        ], unit='bytes'),
        grafana.timeseries('Guest CPU by mode', [
          grafana.target('sum by (item) (rate(kata_guest_cpu_time{%s, cpu="total", item=~"user|nice|system|irq|softirq|iowait|steal"}[%s])) / 1000' % [pod, rate], '{{item}}'),
        ], unit='short'),
        grafana.timeseries('Guest network', [
          grafana.target('rate(kata_guest_netdev_stat{%s, interface!="lo", item="recv_bytes"}[%s])' % [pod, rate], '{{interface}} receive'),
          grafana.target('-rate(kata_guest_netdev_stat{%s, interface!="lo", item="sent_bytes"}[%s])' % [pod, rate], '{{interface}} transmit'),
        ], unit='Bps'),
        grafana.timeseries('Guest disk', [
          grafana.target('rate(kata_guest_diskstat{%s, item="sectors_read"}[%s]) * 512' % [pod, rate], '{{disk}} read'),
          grafana.target('-rate(kata_guest_diskstat{%s, item="sectors_written"}[%s]) * 512' % [pod, rate], '{{disk}} write'),
        ], unit='Bps'),
        grafana.timeseries('Agent RPC time, 99th percentile (Go shim)', [
          grafana.target('histogram_quantile(0.99, sum by (action, le) (rate(kata_shim_agent_rpc_durations_histogram_milliseconds_bucket{%s}[%s])))' % [pod, rate], '{{action}}'),
        ], unit='ms'),
        grafana.timeseries('Guest working set (cAdvisor series)', [
          grafana.target('container_memory_working_set_bytes{%s, id=~"/kata/($sandbox)"}' % agent, '{{id}}'),
        ], unit='bytes'),
      ]
    ),
  },
}
