/**
 * What an operator must know when an upgrade crosses an OpenMetadata release, written in our own words from
 * OpenMetadata's own pages: the "Upgrade prerequisites" page of each release line (1.4, 1.6, 1.7, 1.9, 1.11, 1.13), the
 * release notes of the releases after 1.11 (openmetadata-site content/product-updates/v<version>.md) and the 2.0 upgrade
 * guide's breaking changes (docs-om v2.0.x/deployment/upgrade/breaking-changes/). Each note is one backward-incompatible
 * change of one release, attached to the release whose section of the page lists it, with what to do or check. Advice
 * the pages give for every upgrade (sort memory, pipelines left "Running") is not a release's note: it is exported
 * separately so that it can be shown for any upgrade. UPGRADE_SOURCE_PAGES says where each page is published.
 */

/** The page a note was written from. */
export type UpgradeSourcePage =
  | 'upgrade-prerequisites-1.4.md'
  | 'upgrade-prerequisites-1.6.md'
  | 'upgrade-prerequisites-1.7.md'
  | 'upgrade-prerequisites-1.9.md'
  | 'upgrade-prerequisites-1.11.md'
  | 'upgrade-prerequisites-1.13.mdx'
  | 'release-notes-1.12.0.md'
  | 'release-notes-1.12.7.md'
  | 'release-notes-1.13.0.md'
  | 'release-notes-2.0.0.md'
  | 'breaking-changes-2.0.mdx';

/** An automated check the versions gate performs for a note. */
export type UpgradeCheck = 'airflow-mysql-driver' | 'airflow-3-binlog';

/**
 * Which side of a deployment a note is about.
 * - `openmetadata`: the server, its database, API, UI or search service. Always relevant.
 * - `airflow`: the Airflow metadata database or the Airflow inside the ingestion image. Relevant only when an
 *   Airflow database is configured.
 * - `both`: ingestion workflows and connectors, which talk to the server whether they run in OpenMetadata's Airflow
 *   or elsewhere. Always relevant.
 */
export type NoteConcerns = 'openmetadata' | 'airflow' | 'both';

/** `before`: to do or check before migrating (a preflight warning). `after`: to do once the new version runs. */
export type NoteTiming = 'before' | 'after';

export interface UpgradeNote {
  /** Stable key for findings and JSON output: `<version>/<slug>`, unique. */
  id: string;
  /** The release whose upgrade section lists the change. */
  version: string;
  /** The change, in one line. */
  title: string;
  /** What the operator should do or check, in one or two sentences. */
  action: string;
  check?: UpgradeCheck;
  concerns: NoteConcerns;
  when: NoteTiming;
  source: UpgradeSourcePage;
}

/** Advice the pages give for every upgrade, whatever releases it crosses. */
export interface UpgradeAdvice {
  title: string;
  action: string;
  concerns: NoteConcerns;
  when: NoteTiming;
  /** Every page that gives this advice. */
  sources: readonly UpgradeSourcePage[];
}

const P14 = 'upgrade-prerequisites-1.4.md';
const P16 = 'upgrade-prerequisites-1.6.md';
const P17 = 'upgrade-prerequisites-1.7.md';
const P19 = 'upgrade-prerequisites-1.9.md';
const P111 = 'upgrade-prerequisites-1.11.md';
const P113 = 'upgrade-prerequisites-1.13.mdx';
const RN1120 = 'release-notes-1.12.0.md';
const RN1127 = 'release-notes-1.12.7.md';
const RN1130 = 'release-notes-1.13.0.md';
const RN200 = 'release-notes-2.0.0.md';
const BC20 = 'breaking-changes-2.0.mdx';

/** Where OpenMetadata publishes each page: its docs site (docs-om) or its website's release notes (openmetadata-site). */
export interface UpgradeSourcePageInfo {
  page: UpgradeSourcePage;
  releaseLine: string;
  kind: 'prerequisites' | 'release-notes' | 'breaking-changes';
  /** The page on OpenMetadata's sites, for operators. */
  url: string;
}

/** The pages, each with the release line it documents. */
export const UPGRADE_SOURCE_PAGES: readonly UpgradeSourcePageInfo[] = [
  { page: P14, releaseLine: '1.4', kind: 'prerequisites', url: 'https://docs.open-metadata.org/v1.4.x/deployment/upgrade' },
  { page: P16, releaseLine: '1.6', kind: 'prerequisites', url: 'https://docs.open-metadata.org/v1.6.x/deployment/upgrade' },
  { page: P17, releaseLine: '1.7', kind: 'prerequisites', url: 'https://docs.open-metadata.org/v1.7.x/deployment/upgrade' },
  { page: P19, releaseLine: '1.9', kind: 'prerequisites', url: 'https://docs.open-metadata.org/v1.9.x/deployment/upgrade' },
  { page: P111, releaseLine: '1.11', kind: 'prerequisites', url: 'https://docs.open-metadata.org/v1.11.x/deployment/upgrade' },
  { page: P113, releaseLine: '1.13', kind: 'prerequisites', url: 'https://docs.open-metadata.org/v1.13.x/deployment/upgrade' },
  { page: RN1120, releaseLine: '1.12', kind: 'release-notes', url: 'https://open-metadata.org/product-updates (v1.12.0)' },
  { page: RN1127, releaseLine: '1.12', kind: 'release-notes', url: 'https://open-metadata.org/product-updates (v1.12.7)' },
  { page: RN1130, releaseLine: '1.13', kind: 'release-notes', url: 'https://open-metadata.org/product-updates (v1.13.0)' },
  { page: RN200, releaseLine: '2.0', kind: 'release-notes', url: 'https://open-metadata.org/product-updates (v2.0.0)' },
  { page: BC20, releaseLine: '2.0', kind: 'breaking-changes', url: 'https://docs.open-metadata.org/v2.0.x/deployment/upgrade/breaking-changes/overview' },
];

/**
 * Every upgrade: the migrations sort large tables. All five pages give it, before migrating; om-migrate's
 * sort-memory gate raises the value for the run and puts it back afterwards.
 */
export const SORT_MEMORY_ADVICE: UpgradeAdvice & { minimumBytes: number } = {
  title: 'The migrations need MySQL sort_buffer_size / PostgreSQL work_mem of at least 20 MB, or they can fail with "Out of sort memory"',
  action: 'Raise the value to 20 MB or more for the migration (more for a large query_entity table, or if the error still appears), '
    + 'through the parameter group on managed services, and put the old value back once the migration is done.',
  concerns: 'openmetadata',
  when: 'before',
  sources: [P14, P16, P17, P19, P111, P113],
  minimumBytes: 20 * 1024 * 1024,
};

/**
 * Every upgrade: a pipeline whose Airflow goes down mid-run is never told it stopped. Given by the 1.6, 1.7, 1.9 and
 * 1.11 pages. The status lives in the OpenMetadata database, so it matters with or without an Airflow database.
 */
export const STUCK_RUNNING_ADVICE: UpgradeAdvice = {
  title: 'Ingestion runs cut short by the upgrade stay "Running" in OpenMetadata for ever',
  action: 'After the upgrade, check that Airflow is back up, look in its logs for DAG runs that were interrupted, and set the '
    + 'status of runs still shown as Running by hand (or let running pipelines finish before upgrading).',
  concerns: 'both',
  when: 'after',
  sources: [P16, P17, P19, P111, P113],
};

/** Sorted by version ascending; within a release, in the page's order. */
export const UPGRADE_NOTES: readonly UpgradeNote[] = [
  // 1.4.0: tooling, UI and API changes.
  {
    id: '1.4.0/backup-restore-cli',
    version: '1.4.0',
    title: 'The metadata CLI\'s backup and restore commands are deprecated and no longer supported',
    action: 'Back up with the database\'s own tools (mysqldump, pg_dump) or the managed service\'s snapshots, keep the copies in object '
      + 'storage, and replace any job that still calls the old commands.',
    concerns: 'openmetadata',
    when: 'before',
    source: P14,
  },
  {
    id: '1.4.0/metadata-docker-removed',
    version: '1.4.0',
    title: '`metadata docker` is gone',
    action: 'Start a quickstart from the docker compose files published with each release, and change scripts that ran `metadata docker`.',
    concerns: 'openmetadata',
    when: 'before',
    source: P14,
  },
  {
    id: '1.4.0/bootstrap-storage-replaced',
    version: '1.4.0',
    title: 'bootstrap/bootstrap_storage.sh is deprecated in favour of bootstrap/openmetadata-ops.sh',
    action: 'Point deployment scripts and jobs that call bootstrap_storage.sh at openmetadata-ops.sh (e.g. `openmetadata-ops.sh migrate`).',
    concerns: 'openmetadata',
    when: 'before',
    source: P14,
  },
  {
    id: '1.4.0/ui-changes',
    version: '1.4.0',
    title: 'UI reshuffle: lineage loses Expand All for a Layers button, View Definition becomes Schema Definition, new activity feed cards and glossary picker',
    action: 'Tell users where things moved: column-level lineage and data observability are now switched on from Layers, bottom left of the lineage view.',
    concerns: 'openmetadata',
    when: 'after',
    source: P14,
  },
  {
    id: '1.4.0/classification-exclusivity-fixed',
    version: '1.4.0',
    title: 'Whether a classification is mutually exclusive can only be chosen when it is created',
    action: 'Decide mutual exclusivity when creating a classification: it cannot be switched either way afterwards.',
    concerns: 'openmetadata',
    when: 'after',
    source: P14,
  },
  {
    id: '1.4.0/view-definition-renamed',
    version: '1.4.0',
    title: 'API: a table schema\'s ViewDefinition is renamed SchemaDefinition',
    action: 'Update API clients that read or write ViewDefinition to use SchemaDefinition.',
    concerns: 'openmetadata',
    when: 'before',
    source: P14,
  },
  {
    id: '1.4.0/bulk-import-creates',
    version: '1.4.0',
    title: 'API: bulk import now creates the entities it does not find',
    action: 'Check CSV imports before running them: rows naming missing entities now create them instead of being rejected.',
    concerns: 'openmetadata',
    when: 'before',
    source: P14,
  },
  {
    id: '1.4.0/table-test-suite-reference',
    version: '1.4.0',
    title: 'API: a table\'s TestSuite is now an EntityReference, no longer the whole test suite',
    action: 'Update API clients that read test suite details from a table: follow the reference to fetch the suite.',
    concerns: 'openmetadata',
    when: 'before',
    source: P14,
  },

  // 1.6.0: workflow, schema and connector changes.
  {
    id: '1.6.0/workflow-success-rate',
    version: '1.6.0',
    title: 'Ingestion workflow status now counts every step, so many runs end Partial Success rather than Failed',
    action: 'Review alerts, dashboards or scripts that react to Failed ingestion runs: expect Partial Success instead.',
    concerns: 'both',
    when: 'after',
    source: P16,
  },
  {
    id: '1.6.0/view-lineage-moved',
    version: '1.6.0',
    title: 'View and stored-procedure lineage move from the metadata workflow to the lineage workflow (overrideViewLineage moves with them)',
    action: 'Move overrideViewLineage from metadata ingestion configs to the query-lineage pipeline config, and check that services '
      + 'needing view or stored-procedure lineage run a lineage workflow.',
    concerns: 'both',
    when: 'before',
    source: P16,
  },
  {
    id: '1.6.0/profiler-properties-removed',
    version: '1.6.0',
    title: 'The profiler ingestion pipeline loses generateSampleData, processPiiSensitive and confidence',
    action: 'Remove these three properties from externally run (YAML) profiler ingestion configs.',
    concerns: 'both',
    when: 'before',
    source: P16,
  },
  {
    id: '1.6.0/auto-classification-workflow',
    version: '1.6.0',
    title: 'Sample data and PII tagging move to a new Auto Classification ingestion workflow',
    action: 'To keep sampling and automatic PII classification, create an Auto Classification workflow from the UI once upgraded.',
    concerns: 'both',
    when: 'after',
    source: P16,
  },
  {
    id: '1.6.0/edit-tags-split',
    version: '1.6.0',
    title: 'RBAC: EditTags is split into EditTags, EditGlossaryTerms and EditTier',
    action: 'Review roles and policies that grant EditTags: add EditGlossaryTerms or EditTier wherever users must still apply glossary terms or tiers.',
    concerns: 'openmetadata',
    when: 'after',
    source: P16,
  },
  {
    id: '1.6.0/collate-ml-tagging-deprecated',
    version: '1.6.0',
    title: 'Collate: the ML Tagging metadata action is deprecated and goes away in 1.7',
    action: 'On Collate, replace ML Tagging actions with the Auto Classification workflow before moving on to 1.7.',
    concerns: 'openmetadata',
    when: 'after',
    source: P16,
  },
  {
    id: '1.6.0/service-spec',
    version: '1.6.0',
    title: 'Custom ingestion connectors need a ServiceSpec entry point',
    action: 'If you maintain connectors outside the openmetadata-ingestion package, give each one a ServiceSpec class (see the postgres connector for an example).',
    concerns: 'both',
    when: 'before',
    source: P16,
  },
  {
    id: '1.6.0/fivetran-filter-names',
    version: '1.6.0',
    title: 'Fivetran ingestion filters match pipeline names, not IDs',
    action: 'Rewrite Fivetran pipeline filter patterns that list IDs so that they match pipeline names.',
    concerns: 'both',
    when: 'before',
    source: P16,
  },
  {
    id: '1.6.0/dbt-cloud-job-ids',
    version: '1.6.0',
    title: 'dbt Cloud pipeline service: jobId is replaced by the list jobIds',
    action: 'Replace jobId with jobIds (a list) in dbt Cloud service connections and external ingestion configs.',
    concerns: 'both',
    when: 'before',
    source: P16,
  },
  {
    id: '1.6.0/microstrategy-service-type',
    version: '1.6.0',
    title: 'MicroStrategy\'s serviceType is renamed from Mstr to MicroStrategy',
    action: 'Change serviceType Mstr to MicroStrategy in external ingestion configs and API calls.',
    concerns: 'both',
    when: 'before',
    source: P16,
  },

  // 1.6.2: executable logical test suites.
  {
    id: '1.6.2/executable-endpoints-deprecated',
    version: '1.6.2',
    title: 'API: the /v1/dataQuality/testSuites/executable endpoints are deprecated for /base',
    action: 'Move API calls from .../testSuites/executable to .../testSuites/base; the old endpoints answer with deprecation headers and will be removed.',
    concerns: 'openmetadata',
    when: 'before',
    source: P16,
  },
  {
    id: '1.6.2/test-suite-yaml-connections',
    version: '1.6.2',
    title: 'External data-quality ingestion YAML: connections move to a serviceConnections list in sourceConfig',
    action: 'Only for test-suite workflows run outside OpenMetadata with the connection in the YAML: move source.serviceConnection to '
      + 'sourceConfig.config.serviceConnections (entries of serviceName and serviceConnection).',
    concerns: 'both',
    when: 'before',
    source: P16,
  },

  // 1.6.4: Airflow 2.9.3 in the ingestion image.
  {
    id: '1.6.4/airflow-mysqldb-driver',
    version: '1.6.4',
    title: 'The ingestion image moves to Airflow 2.9.3 and reaches MySQL through mysqlclient, not pymysql',
    action: 'If you set DB_SCHEME for the ingestion container, make it mysql+mysqldb (pymysql breaks Airflow\'s migrations); check an '
      + 'explicit AIRFLOW__DATABASE__SQL_ALCHEMY_CONN as well.',
    check: 'airflow-mysql-driver',
    concerns: 'airflow',
    when: 'before',
    source: P16,
  },

  // 1.7.0
  {
    id: '1.7.0/python-3.8-dropped',
    version: '1.7.0',
    title: 'The ingestion framework drops Python 3.8 (3.9 to 3.11 supported)',
    action: 'Where openmetadata-ingestion is installed from pip rather than used from the Docker images, run it on Python 3.9, 3.10 or 3.11.',
    concerns: 'both',
    when: 'before',
    source: P17,
  },
  {
    id: '1.7.0/opensearch-max-clause-count',
    version: '1.7.0',
    title: 'OpenSearch needs a higher max_clause_count than its default',
    action: 'On OpenSearch (AWS included), set indices.query.bool.max_clause_count to 4096.',
    concerns: 'openmetadata',
    when: 'before',
    source: P17,
  },

  // 1.9.0
  {
    id: '1.9.0/test-case-parameter-names',
    version: '1.9.0',
    title: 'API: test case parameterValues names must match the test definition\'s parameterDefinition names',
    action: 'Check code that creates test cases: a parameter name the definition does not declare is now refused.',
    concerns: 'openmetadata',
    when: 'before',
    source: P19,
  },
  {
    id: '1.9.0/domain-to-domains',
    version: '1.9.0',
    title: 'API: every entity\'s domain field becomes domains, a list',
    action: 'Update API and SDK code to use domains instead of domain, and calls to patch_domain to its new signature.',
    concerns: 'openmetadata',
    when: 'before',
    source: P19,
  },
  {
    id: '1.9.0/multi-domain-off-by-default',
    version: '1.9.0',
    title: 'Assets can belong to several domains, but the rule forbidding it stays on by default',
    action: 'To allow several domains per asset, disable "Multiple Domains are not allowed" under Settings > Preferences > Data Asset Rules.',
    concerns: 'openmetadata',
    when: 'after',
    source: P19,
  },

  // 1.11.0: the page has no per-patch sections; its changes belong to the 1.11 line.
  {
    id: '1.11.0/print-status-in-execute',
    version: '1.11.0',
    title: 'Ingestion framework: workflow.execute() now prints the status itself',
    action: 'In code that drives workflows directly, drop the workflow.print_status() call after execute(), or expect the summary logged twice.',
    concerns: 'both',
    when: 'before',
    source: P111,
  },
  {
    id: '1.11.0/entity-status-field',
    version: '1.11.0',
    title: 'API: glossary terms and data contracts carry entityStatus instead of status',
    action: 'Update API and SDK code that reads or writes status on glossary terms or data contracts to use entityStatus.',
    concerns: 'openmetadata',
    when: 'before',
    source: P111,
  },
  {
    id: '1.11.0/data-contract-approved',
    version: '1.11.0',
    title: 'API: a data contract\'s Active status value is now Approved',
    action: 'Update filters and code that look for Active data contracts to look for Approved.',
    concerns: 'openmetadata',
    when: 'before',
    source: P111,
  },
  {
    id: '1.11.0/airflow-3-binlog',
    version: '1.11.0',
    title: 'The ingestion image moves to Airflow 3, whose MySQL migration must create a stored function',
    action: 'If Airflow\'s database is MySQL with binary logging on, set log_bin_trust_function_creators = 1 (or migrate as a user with SUPER) '
      + 'before the ingestion container starts; PostgreSQL is not affected.',
    check: 'airflow-3-binlog',
    concerns: 'airflow',
    when: 'before',
    source: P111,
  },
  {
    id: '1.11.0/airflow-3-stuck-migration',
    version: '1.11.0',
    title: 'Airflow 3\'s migration can stop half-way through task_instance, failing with "FUNCTION ….uuid_generate_v7 does not exist"',
    action: 'Check that the ingestion container\'s Airflow migration finished; if it stopped there, reset task_instance and alembic_version '
      + '(om-migrate repair-airflow), then restart the ingestion container.',
    concerns: 'airflow',
    when: 'after',
    source: P111,
  },
  // 1.12.0 (release notes, "Breaking Changes").
  {
    id: '1.12.0/search-9.3',
    version: '1.12.0',
    title: 'The server\'s search client needs Elasticsearch 9.3 or OpenSearch 3.x',
    action: 'Upgrade the search cluster first (the notes say Elasticsearch 9.3.0 / OpenSearch 3.4.0; the 1.12 compatibility matrix lists OpenSearch 3.2.0), then reindex once the server runs.',
    concerns: 'openmetadata',
    when: 'before',
    source: RN1120,
  },
  {
    id: '1.12.0/data-contract-terms',
    version: '1.12.0',
    title: 'API: data contracts may inherit security and SLA from their data product, and termsOfUse becomes an object',
    action: 'Update clients that write termsOfUse as plain Markdown: it is now an object holding the text and an inheritance flag.',
    concerns: 'openmetadata',
    when: 'before',
    source: RN1120,
  },
  {
    id: '1.12.0/helm-pipeline-client',
    version: '1.12.0',
    title: 'Helm: pipelineServiceClientConfig gains a type (airflow or k8s) and the Airflow settings move one level down',
    action: 'Before helm upgrade, move your Airflow settings under pipelineServiceClientConfig.airflow in your values file.',
    concerns: 'both',
    when: 'before',
    source: RN1120,
  },

  // 1.12.7 (release notes, "Backward Incompatible / Notable Behavior Changes").
  {
    id: '1.12.7/alert-location-source',
    version: '1.12.7',
    title: 'Notification alerts can no longer use the deprecated Location source',
    action: 'Re-create alerts that used Location on a supported source (Domain, Data Product, or the assets themselves).',
    concerns: 'openmetadata',
    when: 'after',
    source: RN1127,
  },
  {
    id: '1.12.7/container-children',
    version: '1.12.7',
    title: 'API: listing containers no longer returns their children unless asked',
    action: 'Add fields=children to GET /v1/containers calls that rely on the children being there.',
    concerns: 'openmetadata',
    when: 'before',
    source: RN1127,
  },

  // 1.13.0 (release notes, "Breaking Changes" and "Operational Notes"; the 1.13 upgrade page).
  {
    id: '1.13.0/stop-servers',
    version: '1.13.0',
    title: 'Its migration clears the Quartz scheduler tables: every OpenMetadata server must be stopped while it runs',
    action: 'Stop every server and replica before migrating (docker compose stop openmetadata-server, or kubectl scale deployment openmetadata --replicas=0); om-migrate\'s servers-stopped gate checks for their sessions.',
    concerns: 'openmetadata',
    when: 'before',
    source: RN1130,
  },
  {
    id: '1.13.0/iceberg-removed',
    version: '1.13.0',
    title: 'The Iceberg connector is gone: Iceberg services become CustomDatabase and their ingestion pipelines are deleted',
    action: 'Write down the Iceberg pipelines you run, and change YAML files or automation that name serviceType Iceberg.',
    concerns: 'both',
    when: 'before',
    source: RN1130,
  },
  {
    id: '1.13.0/databricks-scheme',
    version: '1.13.0',
    title: 'Databricks and Unity Catalog connections use the scheme databricks instead of databricks+connector',
    action: 'Stored connections are migrated; change the scheme in external ingestion YAML files yourself.',
    concerns: 'both',
    when: 'before',
    source: RN1130,
  },
  {
    id: '1.13.0/trigger-permission',
    version: '1.13.0',
    title: 'Running an ingestion pipeline now needs the Trigger permission, and pipelines take their service\'s owners',
    action: 'Grant Trigger in the custom policies of users, bots and automation that start ingestion pipelines.',
    concerns: 'both',
    when: 'before',
    source: RN1130,
  },
  {
    id: '1.13.0/profiler-sampling',
    version: '1.13.0',
    title: 'Profiler sampling moves into profileSampleConfig; profileSample, profileSampleType, samplingMethodType and computeMetrics are gone',
    action: 'Stored configurations are migrated; rewrite external profiler and test-suite YAML files to the new structure.',
    concerns: 'both',
    when: 'before',
    source: RN1130,
  },
  {
    id: '1.13.0/api-changes',
    version: '1.13.0',
    title: 'API: app manifests say enabled (not preview), webhooks take an authType object, custom property names must start with a letter or digit',
    action: 'Update custom application manifests, webhook automation and custom property definitions before upgrading.',
    concerns: 'openmetadata',
    when: 'before',
    source: RN1130,
  },
  {
    id: '1.13.0/entity-relationship-key',
    version: '1.13.0',
    title: 'entity_relationship\'s primary key now includes relationType',
    action: 'Change scripts that write entity_relationship directly so that they set relationType.',
    concerns: 'openmetadata',
    when: 'before',
    source: RN1130,
  },
  {
    id: '1.13.0/airflow-3.2',
    version: '1.13.0',
    title: 'The ingestion image moves to Airflow 3.2 (ingestion supports Python 3.10 to 3.12)',
    action: 'Rebuild custom ingestion images on the new base; on MySQL, Airflow\'s FAB provider renames foreign keys it expects by name (om-migrate\'s airflow-fab gate checks them).',
    concerns: 'airflow',
    when: 'before',
    source: RN1130,
  },
  {
    id: '1.13.0/search-index-weekly',
    version: '1.13.0',
    title: 'The Search Index application now runs weekly',
    action: 'Check its schedule after the upgrade and set the one you want.',
    concerns: 'openmetadata',
    when: 'after',
    source: RN1130,
  },
  {
    id: '1.13.0/azure-pg-trgm',
    version: '1.13.0',
    title: 'On Azure Database for PostgreSQL Flexible Server the migration needs the pg_trgm extension',
    action: 'Add pg_trgm to the server parameter azure.extensions, restart the server and create the extension before migrating.',
    concerns: 'openmetadata',
    when: 'before',
    source: P113,
  },

  // 1.13.4: Python 3.12 images (2.0.0's notes: "first shipped in 1.13.4").
  {
    id: '1.13.4/python-3.12',
    version: '1.13.4',
    title: 'Ingestion images move to Python 3.12 and Airflow 3.3.0',
    action: 'Rebuild custom ingestion images on Python 3.12 and replace cp310 wheels; a custom Airflow environment needs the 3.12-based image.',
    concerns: 'airflow',
    when: 'before',
    source: RN200,
  },

  // 2.0.0 (the 2.0 upgrade guide's breaking changes; release notes 2.0.0).
  {
    id: '2.0.0/no-downgrade',
    version: '2.0.0',
    title: 'Its migration renames thread_entity, creates over fifteen tables and rewrites app, connection and tag rows: there is no automated way back',
    action: 'Keep the backup om-migrate takes before the migration: restoring it is the only way back to 1.13.',
    concerns: 'openmetadata',
    when: 'before',
    source: BC20,
  },
  {
    id: '2.0.0/collaboration-api',
    version: '2.0.0',
    title: 'API: /v1/suggestions is removed (suggestions are tasks at /v1/tasks) and announcements move to /v1/announcements',
    action: 'Move bots and scripts that use suggestions, announcements or feed tasks to the new endpoints before upgrading.',
    concerns: 'openmetadata',
    when: 'before',
    source: BC20,
  },
  {
    id: '2.0.0/pipeline-statuses',
    version: '2.0.0',
    title: 'API: ingestionPipeline.pipelineStatuses is now an array',
    action: 'Update clients that read pipelineStatuses as one object.',
    concerns: 'both',
    when: 'before',
    source: BC20,
  },
  {
    id: '2.0.0/llm-configuration',
    version: '2.0.0',
    title: 'Embedding and natural-language search settings move from the elasticsearch block to a top-level llmConfiguration',
    action: 'Port elasticsearch.naturalLanguageSearch settings in openmetadata.yaml (or the Helm values) to llmConfiguration before upgrading.',
    concerns: 'openmetadata',
    when: 'before',
    source: BC20,
  },
  {
    id: '2.0.0/databricks-pipeline-auth',
    version: '2.0.0',
    title: 'Databricks Pipeline connections take an authType object instead of token',
    action: 'Stored connections are migrated; nest token under authType in external YAML files.',
    concerns: 'both',
    when: 'before',
    source: RN200,
  },
  {
    id: '2.0.0/great-expectations',
    version: '2.0.0',
    title: 'Great Expectations 0.x is no longer supported',
    action: 'Move to Great Expectations 1.3 or later before upgrading.',
    concerns: 'both',
    when: 'before',
    source: RN200,
  },
  {
    id: '2.0.0/trusted-redirects',
    version: '2.0.0',
    title: 'The Chrome plugin needs its full redirect URI declared in additionalTrustedRedirectUris',
    action: 'Add the extension\'s complete callback URI (scheme, host, path) to additionalTrustedRedirectUris.',
    concerns: 'openmetadata',
    when: 'before',
    source: RN200,
  },
  {
    id: '2.0.0/thread-entity-renamed',
    version: '2.0.0',
    title: 'thread_entity is renamed thread_entity_legacy',
    action: 'Point dashboards, retention jobs and support scripts that query thread_entity at the new tables (or thread_entity_legacy).',
    concerns: 'openmetadata',
    when: 'after',
    source: BC20,
  },
  {
    id: '2.0.0/sessions-and-activity',
    version: '2.0.0',
    title: 'At most five sessions per user by default, and generated activity is kept 30 days',
    action: 'Raise maxActiveSessionsPerUser where users need more, and use version history or the audit log as the record of changes.',
    concerns: 'openmetadata',
    when: 'after',
    source: BC20,
  },
  {
    id: '2.0.0/context-center',
    version: '2.0.0',
    title: 'Knowledge Center becomes Context Center: its pages are migrated to Articles and old URLs break',
    action: 'Update links and bookmarks that point at /knowledge-center.',
    concerns: 'openmetadata',
    when: 'after',
    source: RN200,
  },
  {
    id: '2.0.0/profiler-defaults',
    version: '2.0.0',
    title: 'The profiler samples dynamically by default and no longer collects cardinality distribution',
    action: 'Add cardinality distribution back to the profiler configurations whose rules or classification depend on distinct counts.',
    concerns: 'both',
    when: 'after',
    source: RN200,
  },
  {
    id: '2.0.0/airflow-orchestrator-deprecated',
    version: '2.0.0',
    title: 'Airflow as OpenMetadata\'s internal orchestrator is deprecated (2.1) in favour of the Kubernetes orchestrator',
    action: 'Plan the move of ingestion to the Kubernetes orchestrator; external Airflow installations are not affected.',
    concerns: 'airflow',
    when: 'after',
    source: RN200,
  },
];