-- The state DB of SmartWard's first releases (before_migrations.sql less what was added later: the
-- columns token_version, rate, samples and key_id that stores added by hand-written ALTER TABLE on
-- start, the alarm history's indexes, the bed layouts and patient identities tables). Frozen.

CREATE TABLE alerting_alarm_events (
	seq INTEGER NOT NULL, 
	alarm_id VARCHAR(64) NOT NULL, 
	t BIGINT NOT NULL, 
	event VARCHAR(16) NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	priority VARCHAR(8) NOT NULL, 
	"by" VARCHAR(128), 
	reason TEXT NOT NULL, 
	payload TEXT NOT NULL, 
	PRIMARY KEY (seq)
);

CREATE TABLE alerting_alarms (
	id VARCHAR(64) NOT NULL, 
	ward VARCHAR(64) NOT NULL, 
	bed VARCHAR(64) NOT NULL, 
	patient VARCHAR(64) NOT NULL, 
	device VARCHAR(64) NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	signal VARCHAR(32), 
	code VARCHAR(64) NOT NULL, 
	priority VARCHAR(8) NOT NULL, 
	condition_priority VARCHAR(8) NOT NULL, 
	raised_t BIGINT NOT NULL, 
	reason TEXT NOT NULL, 
	value FLOAT, 
	state VARCHAR(16) NOT NULL, 
	condition BOOLEAN NOT NULL, 
	updated_t BIGINT NOT NULL, 
	acknowledged_by VARCHAR(128), 
	acknowledged_t BIGINT, 
	silenced_until BIGINT, 
	escalation_level INTEGER NOT NULL, 
	escalated_t BIGINT NOT NULL, 
	drill VARCHAR(64) NOT NULL, 
	PRIMARY KEY (id)
);

CREATE TABLE alerting_escalation_policies (
	ward VARCHAR(64) NOT NULL, 
	policy TEXT NOT NULL, 
	"by" VARCHAR(128) NOT NULL, 
	t BIGINT NOT NULL, 
	PRIMARY KEY (ward)
);

CREATE TABLE alerting_limit_overrides (
	patient VARCHAR(64) NOT NULL, 
	signal VARCHAR(32) NOT NULL, 
	override TEXT NOT NULL, 
	"by" VARCHAR(128) NOT NULL, 
	t BIGINT NOT NULL, 
	PRIMARY KEY (patient, signal)
);

CREATE TABLE alerting_spot_observations (
	seq INTEGER NOT NULL, 
	patient VARCHAR(64) NOT NULL, 
	ward VARCHAR(64) NOT NULL, 
	bed VARCHAR(64) NOT NULL, 
	t BIGINT NOT NULL, 
	"by" VARCHAR(128) NOT NULL, 
	payload TEXT NOT NULL, 
	PRIMARY KEY (seq)
);

CREATE TABLE dashboard_audit (
	seq INTEGER NOT NULL, 
	t BIGINT NOT NULL, 
	actor VARCHAR(64) NOT NULL, 
	role VARCHAR(32) NOT NULL, 
	action VARCHAR(64) NOT NULL, 
	resource VARCHAR(256) NOT NULL, 
	detail TEXT NOT NULL, 
	prev_hash VARCHAR(64) NOT NULL, 
	hash VARCHAR(64) NOT NULL, 
	PRIMARY KEY (seq)
);

CREATE TABLE dashboard_audit_cursors (
	name VARCHAR(64) NOT NULL, 
	value BIGINT NOT NULL, 
	PRIMARY KEY (name)
);

CREATE TABLE dashboard_drills (
	id VARCHAR(64) NOT NULL, 
	ward VARCHAR(64) NOT NULL, 
	beds TEXT NOT NULL, 
	speed FLOAT NOT NULL, 
	seed INTEGER NOT NULL, 
	started BIGINT NOT NULL, 
	ends BIGINT NOT NULL, 
	stopped BIGINT, 
	started_by VARCHAR(64) NOT NULL, 
	stopped_by VARCHAR(64) NOT NULL, 
	PRIMARY KEY (id)
);

CREATE TABLE dashboard_sessions (
	sid VARCHAR(32) NOT NULL, 
	username VARCHAR(64) NOT NULL, 
	started_t BIGINT NOT NULL, 
	expires_t BIGINT NOT NULL, 
	refresh_jti VARCHAR(32) NOT NULL, 
	revoked_t BIGINT, 
	revoked_reason VARCHAR(32) NOT NULL, 
	PRIMARY KEY (sid)
);

CREATE TABLE dashboard_users (
	username VARCHAR(64) NOT NULL, 
	password_hash VARCHAR(256) NOT NULL, 
	role VARCHAR(32) NOT NULL, 
	wards VARCHAR(1024) NOT NULL, 
	patient VARCHAR(64) NOT NULL, 
	disabled BOOLEAN NOT NULL, 
	created_t BIGINT NOT NULL, 
	PRIMARY KEY (username)
);

CREATE TABLE device_profile_reviews (
	profile_id VARCHAR(64) NOT NULL, 
	version INTEGER NOT NULL, 
	decision VARCHAR(16) NOT NULL, 
	reviewed_by VARCHAR(128) NOT NULL, 
	reviewed_at BIGINT NOT NULL, 
	reason VARCHAR(500) NOT NULL, 
	PRIMARY KEY (profile_id, version)
);

CREATE TABLE device_profile_versions (
	profile_id VARCHAR(64) NOT NULL, 
	version INTEGER NOT NULL, 
	text TEXT NOT NULL, 
	sha256 VARCHAR(64) NOT NULL, 
	vendor VARCHAR(120) NOT NULL, 
	model VARCHAR(120) NOT NULL, 
	uploaded_by VARCHAR(128) NOT NULL, 
	uploaded_at BIGINT NOT NULL, 
	active BOOLEAN NOT NULL, 
	activated_at BIGINT, 
	PRIMARY KEY (profile_id, version)
);

CREATE TABLE ingest_bed_occupancy (
	id INTEGER NOT NULL, 
	ward VARCHAR(64) NOT NULL, 
	bed VARCHAR(64) NOT NULL, 
	patient VARCHAR(64) NOT NULL, 
	valid_from BIGINT NOT NULL, 
	valid_to BIGINT, 
	PRIMARY KEY (id)
);

CREATE TABLE ingest_device_bindings (
	id INTEGER NOT NULL, 
	device VARCHAR(64) NOT NULL, 
	ward VARCHAR(64) NOT NULL, 
	bed VARCHAR(64) NOT NULL, 
	drill VARCHAR(64) NOT NULL, 
	valid_from BIGINT NOT NULL, 
	valid_to BIGINT, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_binding_device_from UNIQUE (device, valid_from), 
	CONSTRAINT uq_binding_bed_from UNIQUE (ward, bed, valid_from)
);

CREATE INDEX ix_alerting_alarm_events_alarm_id ON alerting_alarm_events (alarm_id);

CREATE INDEX ix_alerting_alarms_state ON alerting_alarms (state);

CREATE INDEX ix_alerting_spot_observations_patient ON alerting_spot_observations (patient);

CREATE INDEX ix_dashboard_sessions_username ON dashboard_sessions (username);

CREATE INDEX ix_occupancy_bed ON ingest_bed_occupancy (ward, bed);

CREATE INDEX ix_occupancy_patient ON ingest_bed_occupancy (patient);

CREATE INDEX ix_binding_device ON ingest_device_bindings (device);
