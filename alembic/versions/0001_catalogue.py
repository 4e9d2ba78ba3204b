"""The whole catalogue: people, candidacies, sites, reference layers, detection, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-21 22:25:36.459184

Generated from app.models with autogenerate, then completed by hand with what
autogenerate cannot see: the PostGIS extension and the append-only audit trigger.
"""

from __future__ import annotations

import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table('audit_events',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor', sa.Text(), nullable=True),
    sa.Column('actor_role', sa.String(length=16), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('entity_type', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.Text(), nullable=True),
    sa.Column('from_status', sa.String(length=24), nullable=True),
    sa.Column('to_status', sa.String(length=24), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('client_address', postgresql.INET(), nullable=True),
    sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_audit_events_entity', 'audit_events', ['entity_type', 'entity_id'], unique=False)
    op.create_geospatial_table('cadastral_sheets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('belfiore', sa.String(length=4), nullable=False),
    sa.Column('foglio', sa.String(length=8), nullable=False),
    sa.Column('comune_istat', sa.String(length=6), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_cadastral_sheets_belfiore_foglio', 'cadastral_sheets', ['belfiore', 'foglio'], unique=False)
    op.create_index(op.f('ix_cadastral_sheets_comune_istat'), 'cadastral_sheets', ['comune_istat'], unique=False)
    op.create_geospatial_index('ix_cadastral_sheets_geom', 'cadastral_sheets', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_geospatial_table('detection_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), server_default=sa.text("'running'"), nullable=False),
    sa.Column('parameters', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('inputs', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('footprint', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('candidate_count', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Text(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('running', 'completed', 'failed')", name='ck_detection_runs_status'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_geospatial_index('ix_detection_runs_footprint', 'detection_runs', ['footprint'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_geospatial_table('infrastructure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('layer_type', sa.String(length=40), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('source_id', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('code', sa.Text(), nullable=True),
    sa.Column('properties', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('geom', Geometry(srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.CheckConstraint("layer_type ~ '^[a-z][a-z0-9_]{0,39}$'", name='ck_infrastructure_type'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('layer_type', 'source', 'source_id', name='uq_infrastructure_source')
    )
    op.create_geospatial_index('ix_infrastructure_geom', 'infrastructure', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index('ix_infrastructure_layer_type', 'infrastructure', ['layer_type'], unique=False)
    op.create_table('owners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('legal_nature', sa.String(length=32), nullable=True),
    sa.Column('codice_fiscale', sa.String(length=16), nullable=True),
    sa.Column('partita_iva', sa.String(length=11), nullable=True),
    sa.Column('legal_representative', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("legal_nature IN ('ente_pubblico', 'persona_giuridica_privata', 'persona_fisica', 'ente_non_profit')", name='ck_owners_legal_nature'),
    sa.CheckConstraint("partita_iva ~ '^[0-9]{11}$'", name='ck_owners_partita_iva_format'),
    sa.CheckConstraint('codice_fiscale IS NOT NULL OR partita_iva IS NOT NULL', name='ck_owners_tax_id'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('codice_fiscale'),
    sa.UniqueConstraint('partita_iva')
    )
    op.create_geospatial_table('policy_zones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('zone_type', sa.String(length=40), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('member_id', sa.Text(), nullable=False),
    sa.Column('comune_istat', sa.String(length=6), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.CheckConstraint("zone_type ~ '^[a-z][a-z0-9_]{0,39}$'", name='ck_policy_zones_type'),
    sa.CheckConstraint('comune_istat IS NOT NULL OR geom IS NOT NULL', name='ck_policy_zones_extent'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('zone_type', 'source', 'member_id', name='uq_policy_zones_member')
    )
    op.create_index(op.f('ix_policy_zones_comune_istat'), 'policy_zones', ['comune_istat'], unique=False)
    op.create_geospatial_index('ix_policy_zones_geom', 'policy_zones', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_policy_zones_zone_type'), 'policy_zones', ['zone_type'], unique=False)
    op.create_table('proponents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('legal_nature', sa.String(length=32), nullable=True),
    sa.Column('codice_fiscale', sa.String(length=16), nullable=True),
    sa.Column('partita_iva', sa.String(length=11), nullable=True),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('pec', sa.Text(), nullable=True),
    sa.Column('phone', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("legal_nature IN ('ente_pubblico', 'persona_giuridica_privata', 'persona_fisica', 'ente_non_profit')", name='ck_proponents_legal_nature'),
    sa.CheckConstraint("partita_iva ~ '^[0-9]{11}$'", name='ck_proponents_partita_iva_format'),
    sa.CheckConstraint('codice_fiscale IS NOT NULL OR partita_iva IS NOT NULL', name='ck_proponents_tax_id'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('codice_fiscale'),
    sa.UniqueConstraint('partita_iva')
    )
    op.create_geospatial_table('provinces',
    sa.Column('code', sa.String(length=3), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('abbreviation', sa.String(length=2), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.CheckConstraint("code ~ '^[0-9]{3}$'", name='ck_provinces_code'),
    sa.PrimaryKeyConstraint('code'),
    sa.UniqueConstraint('abbreviation')
    )
    op.create_geospatial_index('ix_provinces_geom', 'provinces', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_table('reference_layers',
    sa.Column('layer_type', sa.String(length=40), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('feature_count', sa.Integer(), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('licence', sa.Text(), nullable=True),
    sa.Column('loaded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("category IN ('admin', 'infrastructure', 'zone', 'cadastre', 'landuse', 'register')", name='ck_reference_layers_category'),
    sa.CheckConstraint("layer_type ~ '^[a-z][a-z0-9_]{0,39}$'", name='ck_reference_layers_type'),
    sa.PrimaryKeyConstraint('layer_type', 'source')
    )
    op.create_geospatial_table('comuni',
    sa.Column('istat_code', sa.String(length=6), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('cadastral_code', sa.String(length=4), nullable=True),
    sa.Column('province_code', sa.String(length=3), nullable=False),
    sa.Column('population', sa.Integer(), nullable=True),
    sa.Column('population_year', sa.Integer(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.CheckConstraint("istat_code ~ '^[0-9]{6}$'", name='ck_comuni_istat_code'),
    sa.CheckConstraint('population >= 0', name='ck_comuni_population_non_negative'),
    sa.ForeignKeyConstraint(['province_code'], ['provinces.code'], ),
    sa.PrimaryKeyConstraint('istat_code'),
    sa.UniqueConstraint('cadastral_code')
    )
    op.create_geospatial_index('ix_comuni_geom', 'comuni', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_comuni_name'), 'comuni', ['name'], unique=False)
    op.create_index(op.f('ix_comuni_province_code'), 'comuni', ['province_code'], unique=False)
    op.create_table('delegations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('delegate_id', sa.Integer(), nullable=False),
    sa.Column('delegate_category', sa.String(length=32), nullable=True),
    sa.Column('delegate_email', sa.Text(), nullable=True),
    sa.Column('legal_representative', sa.Text(), nullable=True),
    sa.Column('id_document_type', sa.Text(), nullable=True),
    sa.Column('id_document_number', sa.Text(), nullable=True),
    sa.Column('id_document_expiry', sa.Date(), nullable=True),
    sa.Column('scope', sa.Text(), nullable=True),
    sa.Column('site_name', sa.Text(), nullable=True),
    sa.Column('site_comune_istat', sa.String(length=6), nullable=True),
    sa.Column('site_foglio', sa.Text(), nullable=True),
    sa.Column('site_mappali', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
    sa.Column('place', sa.Text(), nullable=True),
    sa.Column('signed_on', sa.Date(), nullable=True),
    sa.Column('signed', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("delegate_category IN ('intermediario_immobiliare', 'associazione_imprenditoriale', 'professionista', 'altro')", name='ck_delegations_delegate_category'),
    sa.ForeignKeyConstraint(['delegate_id'], ['proponents.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['owner_id'], ['owners.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_delegations_delegate_id'), 'delegations', ['delegate_id'], unique=False)
    op.create_index(op.f('ix_delegations_owner_id'), 'delegations', ['owner_id'], unique=False)
    op.create_table('candidacies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lineage_id', sa.UUID(), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('previous_id', sa.Integer(), nullable=True),
    sa.Column('is_current', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('kind', sa.String(length=1), nullable=False),
    sa.Column('status', sa.String(length=24), server_default=sa.text("'draft'"), nullable=False),
    sa.Column('proponent_id', sa.Integer(), nullable=True),
    sa.Column('proponent_role', sa.String(length=16), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('delegation_id', sa.Integer(), nullable=True),
    sa.Column('publication_consent', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('file_path', sa.Text(), nullable=False),
    sa.Column('file_name', sa.Text(), nullable=True),
    sa.Column('file_size', sa.BigInteger(), nullable=False),
    sa.Column('template_version', sa.Text(), nullable=True),
    sa.Column('record', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('validation_report', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("file_sha256 ~ '^[0-9a-f]{64}$'", name='ck_candidacies_sha256'),
    sa.CheckConstraint("kind IN ('A', 'B')", name='ck_candidacies_kind'),
    sa.CheckConstraint("proponent_role IN ('proprietario', 'comproprietario', 'delegato')", name='ck_candidacies_proponent_role'),
    sa.CheckConstraint("status IN ('draft', 'submitted', 'changes_requested', 'validated', 'published', 'withdrawn', 'expired')", name='ck_candidacies_status'),
    sa.CheckConstraint('version >= 1', name='ck_candidacies_version_positive'),
    sa.ForeignKeyConstraint(['delegation_id'], ['delegations.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['owner_id'], ['owners.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['previous_id'], ['candidacies.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['proponent_id'], ['proponents.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('file_sha256'),
    sa.UniqueConstraint('lineage_id', 'version', name='uq_candidacies_lineage_version')
    )
    op.create_index(op.f('ix_candidacies_lineage_id'), 'candidacies', ['lineage_id'], unique=False)
    op.create_index(op.f('ix_candidacies_proponent_id'), 'candidacies', ['proponent_id'], unique=False)
    op.create_index(op.f('ix_candidacies_status'), 'candidacies', ['status'], unique=False)
    op.create_index('uq_candidacies_current', 'candidacies', ['lineage_id'], unique=True, postgresql_where=sa.text('is_current'))
    op.create_geospatial_table('sites',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('origin', sa.String(length=16), server_default=sa.text("'candidacy'"), nullable=False),
    sa.Column('lineage_id', sa.UUID(), nullable=True),
    sa.Column('candidacy_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=1), nullable=False),
    sa.Column('status', sa.String(length=24), server_default=sa.text("'draft'"), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('declared_comune_istat', sa.String(length=6), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('perimeter', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('location_precision', sa.String(length=16), server_default=sa.text("'exact'"), nullable=False),
    sa.Column('cadastral_foglio', sa.Text(), nullable=True),
    sa.Column('cadastral_mappali', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
    sa.Column('cadastral_subalterni', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
    sa.Column('site_type', sa.String(length=24), nullable=True),
    sa.Column('condition', sa.String(length=32), nullable=True),
    sa.Column('land_area_m2', sa.Float(), nullable=True),
    sa.Column('covered_area_m2', sa.Float(), nullable=True),
    sa.Column('gross_floor_area_m2', sa.Float(), nullable=True),
    sa.Column('useful_height_m', sa.Float(), nullable=True),
    sa.Column('floors', sa.Integer(), nullable=True),
    sa.Column('year_built', sa.Integer(), nullable=True),
    sa.Column('energy_class', sa.String(length=4), nullable=True),
    sa.Column('zoning', sa.String(length=32), nullable=True),
    sa.Column('allowed_functions', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
    sa.Column('constraints', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
    sa.Column('remediation', sa.String(length=24), nullable=True),
    sa.Column('tenure_title', sa.String(length=24), nullable=True),
    sa.Column('availability', sa.String(length=24), nullable=True),
    sa.Column('price_eur', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('annual_rent_eur', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('available_from', sa.Date(), nullable=True),
    sa.Column('rail_siding', sa.Boolean(), nullable=True),
    sa.Column('power_kw', sa.Float(), nullable=True),
    sa.Column('substation', sa.Boolean(), nullable=True),
    sa.Column('gas', sa.Boolean(), nullable=True),
    sa.Column('industrial_water', sa.Boolean(), nullable=True),
    sa.Column('sewer', sa.Boolean(), nullable=True),
    sa.Column('fibre', sa.Boolean(), nullable=True),
    sa.Column('declared_distances', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('sectors', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
    sa.Column('description_it', sa.Text(), nullable=True),
    sa.Column('description_en', sa.Text(), nullable=True),
    sa.Column('planning_stage', sa.String(length=32), nullable=True),
    sa.Column('project_floor_area_m2', sa.Float(), nullable=True),
    sa.Column('investment_eur', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('attributes', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('comune_istat', sa.String(length=6), nullable=True),
    sa.Column('province_code', sa.String(length=3), nullable=True),
    sa.Column('nearest', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('dist_airport_km', sa.Float(), nullable=True),
    sa.Column('dist_station_km', sa.Float(), nullable=True),
    sa.Column('dist_motorway_exit_km', sa.Float(), nullable=True),
    sa.Column('zones', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
    sa.Column('pop_10km', sa.Integer(), nullable=True),
    sa.Column('pop_20km', sa.Integer(), nullable=True),
    sa.Column('pop_30km', sa.Integer(), nullable=True),
    sa.Column('completeness', sa.Float(), nullable=True),
    sa.Column('enriched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_confirmed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("availability IN ('vendita', 'locazione', 'vendita_o_locazione', 'diritto_superficie', 'altro')", name='ck_sites_availability'),
    sa.CheckConstraint("condition IN ('disponibile', 'inattivo', 'dismesso', 'in_dismissione', 'parzialmente_utilizzato')", name='ck_sites_condition'),
    sa.CheckConstraint("constraints <@ ARRAY['paesaggistico', 'idrogeologico', 'archeologico', 'fasce_rispetto', 'altro']::text[]", name='ck_sites_constraints'),
    sa.CheckConstraint("energy_class IN ('A4', 'A3', 'A2', 'A1', 'B', 'C', 'D', 'E', 'F', 'G', 'NC')", name='ck_sites_energy_class'),
    sa.CheckConstraint("kind = 'B' OR (project_floor_area_m2 IS NULL AND investment_eur IS NULL)", name='ck_sites_project_fields_kind_b'),
    sa.CheckConstraint("kind IN ('A', 'B')", name='ck_sites_kind'),
    sa.CheckConstraint("location_precision IN ('exact', 'cadastral_sheet', 'comune')", name='ck_sites_location_precision'),
    sa.CheckConstraint("origin IN ('candidacy', 'detection')", name='ck_sites_origin'),
    sa.CheckConstraint("planning_stage IN ('nessuno', 'pgt_vigente', 'piano_attuativo_adottato', 'piano_attuativo_approvato', 'accordo_programma', 'titolo_edilizio')", name='ck_sites_planning_stage'),
    sa.CheckConstraint("remediation IN ('non_necessaria', 'da_verificare', 'in_corso', 'completata')", name='ck_sites_remediation'),
    sa.CheckConstraint("sectors <@ ARRAY['ict', 'life_sciences', 'professional_services', 'microelectronics', 'agrifood', 'agtech_bioeconomy', 'aerospace_defence', 'chemicals', 'mechanical_industry40', 'cleantech_energy', 'luxury_leather', 'transport_logistics']::text[]", name='ck_sites_sectors'),
    sa.CheckConstraint("site_type IN ('area_libera', 'area_dismessa', 'edificio', 'area_con_edifici')", name='ck_sites_site_type'),
    sa.CheckConstraint("status IN ('draft', 'submitted', 'changes_requested', 'validated', 'published', 'withdrawn', 'expired')", name='ck_sites_status'),
    sa.CheckConstraint("tenure_title IN ('proprieta', 'comproprieta', 'diritto_superficie', 'concessione')", name='ck_sites_tenure_title'),
    sa.CheckConstraint("zoning IN ('produttivo', 'logistica', 'terziario_direzionale', 'commerciale', 'turistico_ricettivo', 'servizi', 'residenziale', 'misto', 'agricolo')", name='ck_sites_zoning'),
    sa.CheckConstraint('annual_rent_eur >= 0', name='ck_sites_annual_rent_eur_non_negative'),
    sa.CheckConstraint('completeness IS NULL OR (completeness >= 0 AND completeness <= 1)', name='ck_sites_completeness_range'),
    sa.CheckConstraint('covered_area_m2 >= 0', name='ck_sites_covered_area_m2_non_negative'),
    sa.CheckConstraint('floors >= 0', name='ck_sites_floors_non_negative'),
    sa.CheckConstraint('gross_floor_area_m2 >= 0', name='ck_sites_gross_floor_area_m2_non_negative'),
    sa.CheckConstraint('investment_eur >= 0', name='ck_sites_investment_eur_non_negative'),
    sa.CheckConstraint('land_area_m2 >= 0', name='ck_sites_land_area_m2_non_negative'),
    sa.CheckConstraint('pop_10km >= 0', name='ck_sites_pop_10km_non_negative'),
    sa.CheckConstraint('pop_20km >= 0', name='ck_sites_pop_20km_non_negative'),
    sa.CheckConstraint('pop_30km >= 0', name='ck_sites_pop_30km_non_negative'),
    sa.CheckConstraint('power_kw >= 0', name='ck_sites_power_kw_non_negative'),
    sa.CheckConstraint('price_eur >= 0', name='ck_sites_price_eur_non_negative'),
    sa.CheckConstraint('project_floor_area_m2 >= 0', name='ck_sites_project_floor_area_m2_non_negative'),
    sa.CheckConstraint('useful_height_m >= 0', name='ck_sites_useful_height_m_non_negative'),
    sa.ForeignKeyConstraint(['candidacy_id'], ['candidacies.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['comune_istat'], ['comuni.istat_code'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('lineage_id'),
    sa.UniqueConstraint('public_id')
    )
    op.create_index(op.f('ix_sites_candidacy_id'), 'sites', ['candidacy_id'], unique=False)
    op.create_index(op.f('ix_sites_comune_istat'), 'sites', ['comune_istat'], unique=False)
    op.create_geospatial_index('ix_sites_geom', 'sites', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_geospatial_index('ix_sites_perimeter', 'sites', ['perimeter'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_sites_province_code'), 'sites', ['province_code'], unique=False)
    op.create_index('ix_sites_sectors', 'sites', ['sectors'], unique=False, postgresql_using='gin')
    op.create_index(op.f('ix_sites_site_type'), 'sites', ['site_type'], unique=False)
    op.create_index('ix_sites_status_kind', 'sites', ['status', 'kind'], unique=False)
    op.create_index('ix_sites_zones', 'sites', ['zones'], unique=False, postgresql_using='gin')
    op.create_geospatial_table('detection_candidates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('area_m2', sa.Float(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('evidence', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('review_status', sa.String(length=16), server_default=sa.text("'pending'"), nullable=False),
    sa.Column('review_reason', sa.Text(), nullable=True),
    sa.Column('reviewed_by', sa.Text(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("review_status IN ('pending', 'confirmed', 'rejected')", name='ck_detection_candidates_review_status'),
    sa.CheckConstraint('area_m2 >= 0', name='ck_detection_candidates_area_non_negative'),
    sa.CheckConstraint('score >= 0 AND score <= 1', name='ck_detection_candidates_score_range'),
    sa.ForeignKeyConstraint(['run_id'], ['detection_runs.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_geospatial_index('ix_detection_candidates_geom', 'detection_candidates', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_detection_candidates_run_id'), 'detection_candidates', ['run_id'], unique=False)
    op.execute(APPEND_ONLY_FUNCTION)
    op.execute(
        "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
    op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    op.drop_index(op.f('ix_detection_candidates_run_id'), table_name='detection_candidates')
    op.drop_geospatial_index('ix_detection_candidates_geom', table_name='detection_candidates', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('detection_candidates')
    op.drop_index('ix_sites_zones', table_name='sites', postgresql_using='gin')
    op.drop_index('ix_sites_status_kind', table_name='sites')
    op.drop_index(op.f('ix_sites_site_type'), table_name='sites')
    op.drop_index('ix_sites_sectors', table_name='sites', postgresql_using='gin')
    op.drop_index(op.f('ix_sites_province_code'), table_name='sites')
    op.drop_geospatial_index('ix_sites_perimeter', table_name='sites', postgresql_using='gist', column_name='perimeter')
    op.drop_geospatial_index('ix_sites_geom', table_name='sites', postgresql_using='gist', column_name='geom')
    op.drop_index(op.f('ix_sites_comune_istat'), table_name='sites')
    op.drop_index(op.f('ix_sites_candidacy_id'), table_name='sites')
    op.drop_geospatial_table('sites')
    op.drop_index('uq_candidacies_current', table_name='candidacies', postgresql_where=sa.text('is_current'))
    op.drop_index(op.f('ix_candidacies_status'), table_name='candidacies')
    op.drop_index(op.f('ix_candidacies_proponent_id'), table_name='candidacies')
    op.drop_index(op.f('ix_candidacies_lineage_id'), table_name='candidacies')
    op.drop_table('candidacies')
    op.drop_index(op.f('ix_delegations_owner_id'), table_name='delegations')
    op.drop_index(op.f('ix_delegations_delegate_id'), table_name='delegations')
    op.drop_table('delegations')
    op.drop_index(op.f('ix_comuni_province_code'), table_name='comuni')
    op.drop_index(op.f('ix_comuni_name'), table_name='comuni')
    op.drop_geospatial_index('ix_comuni_geom', table_name='comuni', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('comuni')
    op.drop_table('reference_layers')
    op.drop_geospatial_index('ix_provinces_geom', table_name='provinces', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('provinces')
    op.drop_table('proponents')
    op.drop_index(op.f('ix_policy_zones_zone_type'), table_name='policy_zones')
    op.drop_geospatial_index('ix_policy_zones_geom', table_name='policy_zones', postgresql_using='gist', column_name='geom')
    op.drop_index(op.f('ix_policy_zones_comune_istat'), table_name='policy_zones')
    op.drop_geospatial_table('policy_zones')
    op.drop_table('owners')
    op.drop_index('ix_infrastructure_layer_type', table_name='infrastructure')
    op.drop_geospatial_index('ix_infrastructure_geom', table_name='infrastructure', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('infrastructure')
    op.drop_geospatial_index('ix_detection_runs_footprint', table_name='detection_runs', postgresql_using='gist', column_name='footprint')
    op.drop_geospatial_table('detection_runs')
    op.drop_index('ix_cadastral_sheets_belfiore_foglio', table_name='cadastral_sheets')
    op.drop_geospatial_index('ix_cadastral_sheets_geom', table_name='cadastral_sheets', postgresql_using='gist', column_name='geom')
    op.drop_index(op.f('ix_cadastral_sheets_comune_istat'), table_name='cadastral_sheets')
    op.drop_geospatial_table('cadastral_sheets')
    op.drop_index('ix_audit_events_entity', table_name='audit_events')
    op.drop_table('audit_events')
