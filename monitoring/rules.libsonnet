// Recording rules: per sandbox (one pod) and per node, what the dashboards show, and what Kata costs beside
// what the guest uses. The shim's own kata_shim_pod_overhead_* are 0 or meaningless on most hosts
// (kata-containers#2767, #11600); these answer the question from the per-process families that work: the
// VMM's, the shim's and virtiofsd's resident memory and CPU on the host, less what the guest itself uses.
{
  local c = $._config,
  local sel = c.kataPulseSelector,
  local sandbox = std.join(', ', c.sandboxLabels),
  local perNode = 'sum without (%s)' % sandbox,
  local ticks = c.clockTicksPerSecond,

  prometheusRules+:: {
    groups+: [
      {
        name: 'kata-pulse-sandbox.rules',
        rules: [
          // Resident memory of the host processes of a sandbox, in bytes. The Go shim reports its VMM (QEMU,
          // Cloud Hypervisor, Firecracker) and virtiofsd in bytes, and itself also as process_* (bytes).
          // A runtime-rs shim reports itself in KiB, and its VMM (Dragonball) runs inside it.
          {
            record: 'sandbox:kata_vmm_resident_memory_bytes',
            expr: 'max without (item) (kata_hypervisor_proc_status{%s, item="vmrss"})' % sel,
          },
          {
            record: 'sandbox:kata_shim_resident_memory_bytes',
            expr: |||
              kata_shim_process_resident_memory_bytes{%(sel)s}
              or
              max without (item) (kata_shim_proc_status{%(sel)s, item="vmrss"}) * 1024
            ||| % { sel: sel },
          },
          {
            record: 'sandbox:kata_virtiofsd_resident_memory_bytes',
            expr: 'max without (item) (kata_virtiofsd_proc_status{%s, item="vmrss"})' % sel,
          },
          {
            record: 'sandbox:kata_host_resident_memory_bytes:sum',
            expr: 'sum without () ({__name__=~"sandbox:kata_(vmm|shim|virtiofsd)_resident_memory_bytes", %s})' % sel,
          },
          // What the guest has touched: all but its free memory (page cache included, which the VMM backs
          // with host pages just the same).
          {
            record: 'sandbox:kata_guest_memory_used_bytes',
            expr: |||
              max without (item) (kata_guest_meminfo{%(sel)s, item="mem_total"})
              - max without (item) (kata_guest_meminfo{%(sel)s, item="mem_free"})
            ||| % { sel: sel },
          },
          // Kata's memory overhead: host resident memory not explained by the guest's use. An estimate: a
          // guest that freed memory without a balloon still holds it on the host, which counts here.
          {
            record: 'sandbox:kata_overhead_memory_bytes',
            expr: 'clamp_min(sandbox:kata_host_resident_memory_bytes:sum{%(sel)s} - sandbox:kata_guest_memory_used_bytes{%(sel)s}, 0)' % { sel: sel },
          },
          // CPU in cores (seconds per second). *_proc_stat counts user and system time in clock ticks; the
          // VMM's includes the vCPU threads running the guest.
          {
            record: 'sandbox:kata_vmm_cpu_seconds:rate5m',
            expr: 'sum without (item) (rate(kata_hypervisor_proc_stat{%s, item=~"utime|stime"}[5m])) / %d' % [sel, ticks],
          },
          {
            record: 'sandbox:kata_shim_cpu_seconds:rate5m',
            expr: 'sum without (item) (rate(kata_shim_proc_stat{%s, item=~"utime|stime"}[5m])) / %d' % [sel, ticks],
          },
          {
            record: 'sandbox:kata_virtiofsd_cpu_seconds:rate5m',
            expr: 'sum without (item) (rate(kata_virtiofsd_proc_stat{%s, item=~"utime|stime"}[5m])) / %d' % [sel, ticks],
          },
          {
            record: 'sandbox:kata_host_cpu_seconds:rate5m',
            expr: 'sum without () ({__name__=~"sandbox:kata_(vmm|shim|virtiofsd)_cpu_seconds:rate5m", %s})' % sel,
          },
          // The guest's busy time (milliseconds): user, nice, system, irq and softirq, as cAdvisor's usage.
          {
            record: 'sandbox:kata_guest_cpu_seconds:rate5m',
            expr: 'sum without (cpu, item) (rate(kata_guest_cpu_time{%s, cpu="total", item=~"user|nice|system|irq|softirq"}[5m])) / 1000' % sel,
          },
          {
            record: 'sandbox:kata_overhead_cpu_seconds:rate5m',
            expr: 'clamp_min(sandbox:kata_host_cpu_seconds:rate5m{%(sel)s} - sandbox:kata_guest_cpu_seconds:rate5m{%(sel)s}, 0)' % { sel: sel },
          },
        ],
      },
      {
        name: 'kata-pulse-node.rules',
        rules: [
          { record: 'instance:kata_pulse_sandboxes_up:sum', expr: '%s (kata_pulse_sandbox_up{%s})' % [perNode, sel] },
          { record: 'instance:kata_pulse_sandboxes_failing:sum', expr: '%s (1 - kata_pulse_sandbox_up{%s})' % [perNode, sel] },
          {
            record: 'instance:kata_pulse_sandboxes_failing:ratio',
            expr: 'instance:kata_pulse_sandboxes_failing:sum{%s} / count without (%s) (kata_pulse_sandbox_up{%s})' % [sel, sandbox, sel],
          },
          {
            record: 'instance:kata_pulse_sandboxes_skipped:sum',
            expr: 'sum without (%s, hypervisor) (kata_pulse_sandbox_skipped{%s})' % [sandbox, sel],
          },
        ] + [
          { record: 'instance:%s' % pair[1], expr: '%s (sandbox:%s{%s})' % [perNode, pair[0], sel] }
          for pair in [
            ['kata_host_resident_memory_bytes:sum', 'kata_host_resident_memory_bytes:sum'],
            ['kata_guest_memory_used_bytes', 'kata_guest_memory_used_bytes:sum'],
            ['kata_overhead_memory_bytes', 'kata_overhead_memory_bytes:sum'],
            ['kata_host_cpu_seconds:rate5m', 'kata_host_cpu_seconds:rate5m'],
            ['kata_guest_cpu_seconds:rate5m', 'kata_guest_cpu_seconds:rate5m'],
            ['kata_overhead_cpu_seconds:rate5m', 'kata_overhead_cpu_seconds:rate5m'],
          ]
        ],
      },
    ],
  },
}
