package osquerytest

// Registries the osquery core knows. A broadcast naming any other registry is
// refused with "Unknown registry".
var coreRegistries = []string{
	"config", "config_parser", "database", "distributed", "enroll",
	"event_publisher", "event_subscriber", "killswitch", "logger",
	"numeric_monitoring", "sql", "table",
}

// DefaultBuiltins returns plugin names the osquery core registers itself, per
// registry. An extension item with one of these names is refused exactly as
// osqueryd refuses it ("Registry item <x> conflicts with another item of the
// same name."). The list mixes Linux and macOS names on purpose: a name that
// clashes on any supported platform must never be used by the extension.
// It is a representative subset of osquery's several hundred tables, chosen
// around the names this project could plausibly collide with.
func DefaultBuiltins() map[string][]string {
	return map[string][]string{
		"table": {
			// Event-based log tables we replace, and their aliases.
			"syslog_events", "syslog", "asl", "unified_log",
			"file_events", "process_events", "socket_events", "user_events",
			"es_process_events", "es_process_file_events", "disk_events",
			"hardware_events", "selinux_events", "seccomp_events",
			"apparmor_events", "yara_events", "bpf_process_events",
			"bpf_socket_events", "process_file_events",
			// Core and utility tables.
			"osquery_info", "osquery_extensions", "osquery_flags",
			"osquery_registry", "osquery_schedule", "osquery_events",
			"osquery_packs", "time", "processes",
			"system_info", "os_version", "users", "groups", "file", "hash",
			"listening_ports", "process_open_files", "process_open_sockets",
			"kernel_info", "uptime", "interface_addresses", "interface_details",
			"routes", "etc_hosts", "crontab", "deb_packages", "rpm_packages",
			"logged_in_users", "last", "shell_history", "mounts", "disk_encryption",
			"curl", "curl_certificate", "carves", "augeas", "yara", "sudoers",
			"authorized_keys", "known_hosts", "ssh_configs", "docker_containers",
			"systemd_units", "apt_sources", "kernel_modules", "magic",
			"logical_drives", "ntfs_acl_permissions",
		},
		"logger": {
			"filesystem", "tls", "syslog", "stdout",
			"aws_kinesis", "aws_firehose", "kafka_producer",
		},
		"config":             {"filesystem", "tls", "update"},
		"config_parser":      {"options", "packs", "events", "file_paths", "logger", "auto_constructed_tables", "decorators", "feature_vectors", "kafka_topics", "views", "yara", "file_accesses", "prometheus_targets"},
		"distributed":        {"tls"},
		"enroll":             {"tls"},
		"killswitch":         {"filesystem", "tls"},
		"numeric_monitoring": {"filesystem"},
		"database":           {"ephemeral", "rocksdb"},
		"sql":                {"sql"},
		"event_publisher":    {"syslog", "inotify", "auditeventpublisher", "udev", "BPFEventPublisher"},
		"event_subscriber":   {"syslog_events", "file_events", "process_events", "socket_events", "user_events"},
	}
}

// defaultFlags is a realistic subset of osqueryd's gflags as options()
// reports them: {value, default_value, type}. Values equal defaults, as on a
// daemon started without flags; Options.Flags overrides or adds entries.
func defaultFlags(sock string) map[string]OptionValue {
	f := map[string]OptionValue{
		"extensions_socket":                {Value: sock, Default: "/var/osquery/osquery.em", Type: "string"},
		"extensions_timeout":               {Value: "3", Default: "3", Type: "string"},
		"extensions_interval":              {Value: "3", Default: "3", Type: "string"},
		"extensions_autoload":              {Value: "/etc/osquery/extensions.load", Default: "/etc/osquery/extensions.load", Type: "string"},
		"extensions_require":               {Value: "", Default: "", Type: "string"},
		"extensions_default_index":         {Value: "true", Default: "true", Type: "bool"},
		"disable_extensions":               {Value: "false", Default: "false", Type: "bool"},
		"verbose":                          {Value: "false", Default: "false", Type: "bool"},
		"config_plugin":                    {Value: "filesystem", Default: "filesystem", Type: "string"},
		"config_path":                      {Value: "/etc/osquery/osquery.conf", Default: "/etc/osquery/osquery.conf", Type: "string"},
		"logger_plugin":                    {Value: "filesystem", Default: "filesystem", Type: "string"},
		"logger_path":                      {Value: "/var/log/osquery/", Default: "/var/log/osquery/", Type: "string"},
		"logger_event_type":                {Value: "true", Default: "true", Type: "bool"},
		"logger_snapshot_event_type":       {Value: "false", Default: "false", Type: "bool"},
		"logger_numerics":                  {Value: "false", Default: "false", Type: "bool"},
		"database_path":                    {Value: "/var/osquery/osquery.db", Default: "/var/osquery/osquery.db", Type: "string"},
		"host_identifier":                  {Value: "hostname", Default: "hostname", Type: "string"},
		"disable_events":                   {Value: "false", Default: "false", Type: "bool"},
		"events_expiry":                    {Value: "3600", Default: "3600", Type: "uint64"},
		"events_max":                       {Value: "50000", Default: "50000", Type: "uint64"},
		"enable_syslog":                    {Value: "false", Default: "false", Type: "bool"},
		"syslog_pipe_path":                 {Value: "/var/osquery/syslog_pipe", Default: "/var/osquery/syslog_pipe", Type: "string"},
		"syslog_events_expiry":             {Value: "2592000", Default: "2592000", Type: "uint64"},
		"syslog_events_max":                {Value: "100000", Default: "100000", Type: "uint64"},
		"syslog_rate_limit":                {Value: "100", Default: "100", Type: "uint64"},
		"thrift_timeout":                   {Value: "300", Default: "300", Type: "uint32"},
		"thrift_string_size_limit":         {Value: "0", Default: "0", Type: "int32"},
		"aws_access_key_id":                {Value: "", Default: "", Type: "string"},
		"aws_secret_access_key":            {Value: "", Default: "", Type: "string"},
		"aws_session_token":                {Value: "", Default: "", Type: "string"},
		"aws_profile_name":                 {Value: "", Default: "", Type: "string"},
		"aws_region":                       {Value: "", Default: "", Type: "string"},
		"aws_sts_arn_role":                 {Value: "", Default: "", Type: "string"},
		"aws_sts_region":                   {Value: "", Default: "", Type: "string"},
		"aws_sts_session_name":             {Value: "default", Default: "default", Type: "string"},
		"aws_sts_timeout":                  {Value: "3600", Default: "3600", Type: "uint64"},
		"aws_enable_proxy":                 {Value: "false", Default: "false", Type: "bool"},
		"aws_proxy_scheme":                 {Value: "https", Default: "https", Type: "string"},
		"aws_proxy_host":                   {Value: "", Default: "", Type: "string"},
		"aws_proxy_port":                   {Value: "0", Default: "0", Type: "uint32"},
		"aws_proxy_username":               {Value: "", Default: "", Type: "string"},
		"aws_proxy_password":               {Value: "", Default: "", Type: "string"},
		"aws_kinesis_stream":               {Value: "", Default: "", Type: "string"},
		"aws_kinesis_period":               {Value: "10", Default: "10", Type: "uint64"},
		"aws_kinesis_random_partition_key": {Value: "false", Default: "false", Type: "bool"},
		"aws_kinesis_disable_log_status":   {Value: "false", Default: "false", Type: "bool"},
		"aws_firehose_stream":              {Value: "", Default: "", Type: "string"},
		"aws_firehose_period":              {Value: "10", Default: "10", Type: "uint64"},
		"aws_firehose_endpoint":            {Value: "", Default: "", Type: "string"},
		"aws_kinesis_endpoint":             {Value: "", Default: "", Type: "string"},
		"aws_kinesis_region":               {Value: "", Default: "", Type: "string"},
		"aws_firehose_region":              {Value: "", Default: "", Type: "string"},
		"aws_imdsv2_request_attempts":      {Value: "3", Default: "3", Type: "uint32"},
		"aws_imdsv2_request_interval":      {Value: "3", Default: "3", Type: "uint32"},
		"aws_disable_imdsv1_fallback":      {Value: "false", Default: "false", Type: "bool"},
		"aws_enforce_fips":                 {Value: "false", Default: "false", Type: "bool"},
		"decorations_top_level":            {Value: "false", Default: "false", Type: "bool"},
		"aws_debug":                        {Value: "false", Default: "false", Type: "bool"},
		"buffered_log_max":                 {Value: "1000000", Default: "1000000", Type: "uint64"},
	}
	return f
}
