/// The `container_*` families of a real kubelet `/metrics/cadvisor` capture (Kubernetes on Talos 1.11,
/// kernel 6.12): each family's HELP and TYPE lines and its first sample, as captured (timestamps included).
/// Made from the full capture with: keep lines of `container_*` families; per family, HELP, TYPE and the first
/// sample. It is the reference the cAdvisor mapping is checked against.
enum KubeletCadvisorCapture {
    static let families = #"""
        # HELP container_blkio_device_usage_total Blkio Device bytes usage
        # TYPE container_blkio_device_usage_total counter
        container_blkio_device_usage_total{container="",device="",id="/",image="",major="7",minor="0",name="",namespace="",operation="Read",pod=""} 179200 1761079480207
        # HELP container_cpu_cfs_periods_total Number of elapsed enforcement period intervals.
        # TYPE container_cpu_cfs_periods_total counter
        container_cpu_cfs_periods_total{container="",id="/kubepods/burstable/pod137df5d5-1147-4812-9e11-42a28f438717",image="",name="",namespace="kube-system",pod="coredns-7bb49dc74c-h8qhm"} 221365 1761079469520
        # HELP container_cpu_cfs_throttled_periods_total Number of throttled period intervals.
        # TYPE container_cpu_cfs_throttled_periods_total counter
        container_cpu_cfs_throttled_periods_total{container="",id="/kubepods/burstable/pod137df5d5-1147-4812-9e11-42a28f438717",image="",name="",namespace="kube-system",pod="coredns-7bb49dc74c-h8qhm"} 8 1761079469520
        # HELP container_cpu_cfs_throttled_seconds_total Total time duration the container has been throttled.
        # TYPE container_cpu_cfs_throttled_seconds_total counter
        container_cpu_cfs_throttled_seconds_total{container="",id="/kubepods/burstable/pod137df5d5-1147-4812-9e11-42a28f438717",image="",name="",namespace="kube-system",pod="coredns-7bb49dc74c-h8qhm"} 0.389663 1761079469520
        # HELP container_cpu_load_average_10s Value of container cpu load average over the last 10 seconds.
        # TYPE container_cpu_load_average_10s gauge
        container_cpu_load_average_10s{container="",id="/",image="",name="",namespace="",pod=""} 0 1761079480207
        # HELP container_cpu_load_d_average_10s Value of container cpu load.d average over the last 10 seconds.
        # TYPE container_cpu_load_d_average_10s gauge
        container_cpu_load_d_average_10s{container="",id="/",image="",name="",namespace="",pod=""} 0 1761079480207
        # HELP container_cpu_system_seconds_total Cumulative system cpu time consumed in seconds.
        # TYPE container_cpu_system_seconds_total counter
        container_cpu_system_seconds_total{container="",id="/",image="",name="",namespace="",pod=""} 20681.848 1761079480207
        # HELP container_cpu_usage_seconds_total Cumulative cpu time consumed in seconds.
        # TYPE container_cpu_usage_seconds_total counter
        container_cpu_usage_seconds_total{container="",cpu="total",id="/",image="",name="",namespace="",pod=""} 57736.472 1761079480207
        # HELP container_cpu_user_seconds_total Cumulative user cpu time consumed in seconds.
        # TYPE container_cpu_user_seconds_total counter
        container_cpu_user_seconds_total{container="",id="/",image="",name="",namespace="",pod=""} 37054.624 1761079480207
        # HELP container_file_descriptors Number of open file descriptors for the container.
        # TYPE container_file_descriptors gauge
        container_file_descriptors{container="",id="/",image="",name="",namespace="",pod=""} 0 1761079480207
        # HELP container_fs_inodes_free Number of available Inodes
        # TYPE container_fs_inodes_free gauge
        container_fs_inodes_free{container="",device="/dev",id="/",image="",name="",namespace="",pod=""} 973258 1761079480207
        # HELP container_fs_inodes_total Number of Inodes
        # TYPE container_fs_inodes_total gauge
        container_fs_inodes_total{container="",device="/dev",id="/",image="",name="",namespace="",pod=""} 973750 1761079480207
        # HELP container_fs_io_current Number of I/Os currently in progress
        # TYPE container_fs_io_current gauge
        container_fs_io_current{container="",device="/dev",id="/",image="",name="",namespace="",pod=""} 0 1761079480207
        # HELP container_fs_io_time_seconds_total Cumulative count of seconds spent doing I/Os
        # TYPE container_fs_io_time_seconds_total counter
        container_fs_io_time_seconds_total{container="",device="/dev",id="/",image="",name="",namespace="",pod=""} 0 1761079480207
        # HELP container_fs_io_time_weighted_seconds_total Cumulative weighted I/O time in seconds
        # TYPE container_fs_io_time_weighted_seconds_total counter
        container_fs_io_time_weighted_seconds_total{container="",device="/dev",id="/",image="",name="",namespace="",pod=""} 0 1761079480207
        # HELP container_fs_limit_bytes Number of bytes that can be consumed by the container on this filesystem.
        # TYPE container_fs_limit_bytes gauge
        container_fs_limit_bytes{container="",device="/dev",id="/",image="",name="",namespace="",pod=""} 3.98848e+09 1761079480207
        # HELP container_fs_read_seconds_total Cumulative count of seconds spent reading
        # TYPE container_fs_read_seconds_total counter
        container_fs_read_seconds_total{container="",device="/dev",id="/",image="",name="",namespace="",pod=""} 0 1761079480207
        # HELP container_fs_reads_bytes_total Cumulative count of bytes read
        # TYPE container_fs_reads_bytes_total counter
        container_fs_reads_bytes_total{container="",device="",id="/",image="",name="",namespace="",pod=""} 20480 1761079480207
        # HELP container_fs_reads_merged_total Cumulative count of reads merged
        # TYPE container_fs_reads_merged_total counter
        container_fs_reads_merged_total{container="",device="/dev",id="/",image="",name="",namespace="",pod=""} 0 1761079480207
        # HELP container_fs_reads_total Cumulative count of reads completed
        # TYPE container_fs_reads_total counter
        container_fs_reads_total{container="",device="",id="/",image="",name="",namespace="",pod=""} 12 1761079480207
        # HELP container_fs_sector_reads_total Cumulative count of sector reads completed
        # TYPE container_fs_sector_reads_total counter
        container_fs_sector_reads_total{container="",device="/dev",id="/",image="",name="",namespace="",pod=""} 0 1761079480207
        # HELP container_fs_sector_writes_total Cumulative count of sector writes completed
        # TYPE container_fs_sector_writes_total counter
        container_fs_sector_writes_total{container="",device="/dev",id="/",image="",name="",namespace="",pod=""} 0 1761079480207
        # HELP container_fs_usage_bytes Number of bytes that are consumed by the container on this filesystem.
        # TYPE container_fs_usage_bytes gauge
        container_fs_usage_bytes{container="",device="/dev",id="/",image="",name="",namespace="",pod=""} 0 1761079480207
        # HELP container_fs_write_seconds_total Cumulative count of seconds spent writing
        # TYPE container_fs_write_seconds_total counter
        container_fs_write_seconds_total{container="",device="/dev",id="/",image="",name="",namespace="",pod=""} 0 1761079480207
        # HELP container_fs_writes_bytes_total Cumulative count of bytes written
        # TYPE container_fs_writes_bytes_total counter
        container_fs_writes_bytes_total{container="",device="",id="/",image="",name="",namespace="",pod=""} 0 1761079480207
        # HELP container_fs_writes_merged_total Cumulative count of writes merged
        # TYPE container_fs_writes_merged_total counter
        container_fs_writes_merged_total{container="",device="/dev",id="/",image="",name="",namespace="",pod=""} 0 1761079480207
        # HELP container_fs_writes_total Cumulative count of writes completed
        # TYPE container_fs_writes_total counter
        container_fs_writes_total{container="",device="",id="/",image="",name="",namespace="",pod=""} 0 1761079480207
        # HELP container_last_seen Last time a container was seen by the exporter
        # TYPE container_last_seen gauge
        container_last_seen{container="",id="/",image="",name="",namespace="",pod=""} 1.761079485e+09 1761079485183
        # HELP container_memory_cache Number of bytes of page cache memory.
        # TYPE container_memory_cache gauge
        container_memory_cache{container="",id="/",image="",name="",namespace="",pod=""} 1.313529856e+09 1761079480207
        # HELP container_memory_failcnt Number of memory usage hits limits
        # TYPE container_memory_failcnt counter
        container_memory_failcnt{container="",id="/",image="",name="",namespace="",pod=""} 0 1761079480207
        # HELP container_memory_failures_total Cumulative count of memory allocation failures.
        # TYPE container_memory_failures_total counter
        container_memory_failures_total{container="",failure_type="pgfault",id="/",image="",name="",namespace="",pod="",scope="container"} 3.37341692e+08 1761079480207
        # HELP container_memory_kernel_usage Size of kernel memory allocated in bytes.
        # TYPE container_memory_kernel_usage gauge
        container_memory_kernel_usage{container="",id="/",image="",name="",namespace="",pod=""} 0 1761079480207
        # HELP container_memory_mapped_file Size of memory mapped files in bytes.
        # TYPE container_memory_mapped_file gauge
        container_memory_mapped_file{container="",id="/",image="",name="",namespace="",pod=""} 6.7436544e+08 1761079480207
        # HELP container_memory_max_usage_bytes Maximum memory usage recorded in bytes
        # TYPE container_memory_max_usage_bytes gauge
        container_memory_max_usage_bytes{container="",id="/",image="",name="",namespace="",pod=""} 0 1761079480207
        # HELP container_memory_rss Size of RSS in bytes.
        # TYPE container_memory_rss gauge
        container_memory_rss{container="",id="/",image="",name="",namespace="",pod=""} 5.716021248e+09 1761079480207
        # HELP container_memory_swap Container swap usage in bytes.
        # TYPE container_memory_swap gauge
        container_memory_swap{container="",id="/",image="",name="",namespace="",pod=""} 0 1761079480207
        # HELP container_memory_total_active_file_bytes Current total active file in bytes.
        # TYPE container_memory_total_active_file_bytes gauge
        container_memory_total_active_file_bytes{container="",id="/",image="",name="",namespace="",pod=""} 4.26778624e+08 1761079480207
        # HELP container_memory_total_inactive_file_bytes Current total inactive file in bytes.
        # TYPE container_memory_total_inactive_file_bytes gauge
        container_memory_total_inactive_file_bytes{container="",id="/",image="",name="",namespace="",pod=""} 7.7172736e+08 1761079480207
        # HELP container_memory_usage_bytes Current memory usage in bytes, including all memory regardless of when it was accessed
        # TYPE container_memory_usage_bytes gauge
        container_memory_usage_bytes{container="",id="/",image="",name="",namespace="",pod=""} 7.029551104e+09 1761079480207
        # HELP container_memory_working_set_bytes Current working set in bytes.
        # TYPE container_memory_working_set_bytes gauge
        container_memory_working_set_bytes{container="",id="/",image="",name="",namespace="",pod=""} 6.257823744e+09 1761079480207
        # HELP container_network_receive_bytes_total Cumulative count of bytes received
        # TYPE container_network_receive_bytes_total counter
        container_network_receive_bytes_total{container="",id="/",image="",interface="bond0",name="",namespace="",pod=""} 0 1761079480207
        # HELP container_network_receive_errors_total Cumulative count of errors encountered while receiving
        # TYPE container_network_receive_errors_total counter
        container_network_receive_errors_total{container="",id="/",image="",interface="bond0",name="",namespace="",pod=""} 0 1761079480207
        # HELP container_network_receive_packets_dropped_total Cumulative count of packets dropped while receiving
        # TYPE container_network_receive_packets_dropped_total counter
        container_network_receive_packets_dropped_total{container="",id="/",image="",interface="bond0",name="",namespace="",pod=""} 0 1761079480207
        # HELP container_network_receive_packets_total Cumulative count of packets received
        # TYPE container_network_receive_packets_total counter
        container_network_receive_packets_total{container="",id="/",image="",interface="bond0",name="",namespace="",pod=""} 0 1761079480207
        # HELP container_network_transmit_bytes_total Cumulative count of bytes transmitted
        # TYPE container_network_transmit_bytes_total counter
        container_network_transmit_bytes_total{container="",id="/",image="",interface="bond0",name="",namespace="",pod=""} 0 1761079480207
        # HELP container_network_transmit_errors_total Cumulative count of errors encountered while transmitting
        # TYPE container_network_transmit_errors_total counter
        container_network_transmit_errors_total{container="",id="/",image="",interface="bond0",name="",namespace="",pod=""} 0 1761079480207
        # HELP container_network_transmit_packets_dropped_total Cumulative count of packets dropped while transmitting
        # TYPE container_network_transmit_packets_dropped_total counter
        container_network_transmit_packets_dropped_total{container="",id="/",image="",interface="bond0",name="",namespace="",pod=""} 0 1761079480207
        # HELP container_network_transmit_packets_total Cumulative count of packets transmitted
        # TYPE container_network_transmit_packets_total counter
        container_network_transmit_packets_total{container="",id="/",image="",interface="bond0",name="",namespace="",pod=""} 0 1761079480207
        # HELP container_oom_events_total Count of out of memory events observed for the container
        # TYPE container_oom_events_total counter
        container_oom_events_total{container="",id="/",image="",name="",namespace="",pod=""} 0 1761079480207
        # HELP container_pressure_cpu_stalled_seconds_total Total time duration no tasks in the container could make progress due to CPU congestion.
        # TYPE container_pressure_cpu_stalled_seconds_total counter
        container_pressure_cpu_stalled_seconds_total{container="",id="/",image="",name="",namespace="",pod=""} 0 1761079480207
        # HELP container_pressure_cpu_waiting_seconds_total Total time duration tasks in the container have waited due to CPU congestion.
        # TYPE container_pressure_cpu_waiting_seconds_total counter
        container_pressure_cpu_waiting_seconds_total{container="",id="/",image="",name="",namespace="",pod=""} 3683.150745 1761079480207
        # HELP container_pressure_io_stalled_seconds_total Total time duration no tasks in the container could make progress due to IO congestion.
        # TYPE container_pressure_io_stalled_seconds_total counter
        container_pressure_io_stalled_seconds_total{container="",id="/",image="",name="",namespace="",pod=""} 525.683329 1761079480207
        # HELP container_pressure_io_waiting_seconds_total Total time duration tasks in the container have waited due to IO congestion.
        # TYPE container_pressure_io_waiting_seconds_total counter
        container_pressure_io_waiting_seconds_total{container="",id="/",image="",name="",namespace="",pod=""} 635.559023 1761079480207
        # HELP container_pressure_memory_stalled_seconds_total Total time duration no tasks in the container could make progress due to memory congestion.
        # TYPE container_pressure_memory_stalled_seconds_total counter
        container_pressure_memory_stalled_seconds_total{container="",id="/",image="",name="",namespace="",pod=""} 0.990892 1761079480207
        # HELP container_pressure_memory_waiting_seconds_total Total time duration tasks in the container have waited due to memory congestion.
        # TYPE container_pressure_memory_waiting_seconds_total counter
        container_pressure_memory_waiting_seconds_total{container="",id="/",image="",name="",namespace="",pod=""} 1.13076 1761079480207
        # HELP container_processes Number of processes running inside the container.
        # TYPE container_processes gauge
        container_processes{container="",id="/",image="",name="",namespace="",pod=""} 136 1761079480207
        # HELP container_scrape_error 1 if there was an error while getting container metrics, 0 otherwise
        # TYPE container_scrape_error gauge
        container_scrape_error 0
        # HELP container_sockets Number of open sockets for the container.
        # TYPE container_sockets gauge
        container_sockets{container="",id="/",image="",name="",namespace="",pod=""} 0 1761079480207
        # HELP container_spec_cpu_period CPU period of the container.
        # TYPE container_spec_cpu_period gauge
        container_spec_cpu_period{container="",id="/",image="",name="",namespace="",pod=""} 0
        # HELP container_spec_cpu_quota CPU quota of the container.
        # TYPE container_spec_cpu_quota gauge
        container_spec_cpu_quota{container="",id="/kubepods/burstable/pod137df5d5-1147-4812-9e11-42a28f438717",image="",name="",namespace="kube-system",pod="coredns-7bb49dc74c-h8qhm"} 20000
        # HELP container_spec_cpu_shares CPU share of the container.
        # TYPE container_spec_cpu_shares gauge
        container_spec_cpu_shares{container="",id="/",image="",name="",namespace="",pod=""} 0
        # HELP container_spec_memory_limit_bytes Memory limit for the container.
        # TYPE container_spec_memory_limit_bytes gauge
        container_spec_memory_limit_bytes{container="",id="/",image="",name="",namespace="",pod=""} 8.10735616e+09
        # HELP container_spec_memory_reservation_limit_bytes Memory reservation limit for the container.
        # TYPE container_spec_memory_reservation_limit_bytes gauge
        container_spec_memory_reservation_limit_bytes{container="",id="/",image="",name="",namespace="",pod=""} 0
        # HELP container_spec_memory_swap_limit_bytes Memory swap limit for the container.
        # TYPE container_spec_memory_swap_limit_bytes gauge
        container_spec_memory_swap_limit_bytes{container="",id="/",image="",name="",namespace="",pod=""} 0
        # HELP container_start_time_seconds Start time of the container since unix epoch in seconds.
        # TYPE container_start_time_seconds gauge
        container_start_time_seconds{container="",id="/",image="",name="",namespace="",pod=""} 1.760995188e+09
        # HELP container_tasks_state Number of tasks in given state
        # TYPE container_tasks_state gauge
        container_tasks_state{container="",id="/",image="",name="",namespace="",pod="",state="iowaiting"} 0 1761079480207
        # HELP container_threads Number of threads running inside the container
        # TYPE container_threads gauge
        container_threads{container="",id="/",image="",name="",namespace="",pod=""} 136 1761079480207
        # HELP container_threads_max Maximum number of threads allowed inside the container, infinity if value is zero
        # TYPE container_threads_max gauge
        container_threads_max{container="",id="/",image="",name="",namespace="",pod=""} 0 1761079480207
        # HELP container_ulimits_soft Soft ulimit values for the container root process. Unlimited if -1, except priority and nice
        # TYPE container_ulimits_soft gauge
        container_ulimits_soft{container="",id="/",image="",name="",namespace="",pod="",ulimit="max_open_files"} 1.048576e+06 1761079480207
        """#
}
