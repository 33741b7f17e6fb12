-- Deployment set-up for docker-compose.yml's postgres profile (run once by the postgres:15 image on an empty data
-- directory): OpenMetadata's and Airflow's databases, each owned by its application user. Not part of om-migrate itself.
CREATE ROLE openmetadata_user LOGIN PASSWORD 'openmetadata_password';
CREATE DATABASE openmetadata_db OWNER openmetadata_user;
CREATE ROLE airflow_user LOGIN PASSWORD 'airflow_pass';
CREATE DATABASE airflow_db OWNER airflow_user;
