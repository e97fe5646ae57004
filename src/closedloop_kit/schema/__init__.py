"""L2 validate: the canonical data model and the lossless ``validate`` boundary."""

import polars as pl

from closedloop_kit.schema._fields import UTC_DATETIME
from closedloop_kit.schema._normalize import normalized_domain, normalized_email
from closedloop_kit.schema._validate import (
    REJECT_COLUMNS,
    UNIFORM_REJECT_SCHEMA,
    ValidationResult,
    as_reject_rows,
    validate,
)
from closedloop_kit.schema.keys import (
    SOURCE_PREFIX,
    is_valid_salesforce_id,
    prefixed,
    salesforce_id18,
    salesforce_id18_expr,
    salesforce_id_problem_expr,
    salesforce_id_valid_expr,
    salesforce_suffix_expr,
)
from closedloop_kit.schema.tables import (
    TABLES,
    AccountSchema,
    ActivitySchema,
    CampaignMemberSchema,
    CampaignSchema,
    CanonicalSchema,
    FxRateSchema,
    IdentityLinkSchema,
    OpportunityContactSchema,
    OpportunityProductSchema,
    OpportunitySchema,
    PersonSchema,
    ProductSchema,
    SpendSchema,
    StageHistorySchema,
    TableSpec,
    TouchpointSchema,
    UserSchema,
)

__all__ = [
    "REJECT_COLUMNS",
    "SOURCE_PREFIX",
    "TABLES",
    "UNIFORM_REJECT_SCHEMA",
    "UTC_DATETIME",
    "AccountSchema",
    "ActivitySchema",
    "CampaignMemberSchema",
    "CampaignSchema",
    "CanonicalSchema",
    "FxRateSchema",
    "IdentityLinkSchema",
    "OpportunityContactSchema",
    "OpportunityProductSchema",
    "OpportunitySchema",
    "PersonSchema",
    "ProductSchema",
    "SpendSchema",
    "StageHistorySchema",
    "TableSpec",
    "TouchpointSchema",
    "UserSchema",
    "ValidationResult",
    "as_reject_rows",
    "empty_table",
    "is_valid_salesforce_id",
    "normalized_domain",
    "normalized_email",
    "prefixed",
    "salesforce_id18",
    "salesforce_id18_expr",
    "salesforce_id_problem_expr",
    "salesforce_id_valid_expr",
    "salesforce_suffix_expr",
    "validate",
]


def empty_table(name: str) -> pl.DataFrame:
    """An empty frame with the canonical columns and dtypes of table ``name``."""
    return pl.DataFrame(schema=TABLES[name].columns)
