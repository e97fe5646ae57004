"""Pandera models of the canonical closed-loop tables.

Every loader produces these tables and every analysis reads them. Each model declares
the columns, their dtypes, nullability and row-level checks; :data:`TABLES` adds the
primary key of each table (uniqueness is checked by :func:`closedloop_kit.schema.validate`
in one polars pass, not by pandera, which is ~9x slower at it).

Keys are strings prefixed with the source system (``sf:``, ``hs:``, ``ga4:``, ...; see
:mod:`closedloop_kit.schema.keys`) so two systems can never collide. Every table ends
with the lineage columns ``source_system``, ``source_id``, ``source_file`` and
``source_row``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import get_args

import pandera.polars as pa
import polars as pl

from closedloop_kit._core.types import ActivityType, PersonType, SourcedBy, SourceSystem
from closedloop_kit.schema import _fields as f
from closedloop_kit.schema._fields import UtcDatetime

__all__ = [
    "TABLES",
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
]

# the choices are declared once, as Literal aliases in _core.types, and listed from there
PERSON_TYPES = list(get_args(PersonType))
SOURCED_BY = list(get_args(SourcedBy))
ENTITY_TYPES = ["person", "account", "opportunity", "campaign_member"]
SOURCE_SYSTEMS = list(get_args(SourceSystem))
ACTIVITY_TYPES = list(get_args(ActivityType))


class CanonicalSchema(pa.DataFrameModel):
    """Lineage columns carried by every canonical table."""

    source_system: pl.String = f.choice("system the row was loaded from", SOURCE_SYSTEMS)
    source_id: pl.String = f.text("the record's id in its source system, as exported")
    source_file: pl.String = f.text("file the row was read from (relative path or name)")
    source_row: pl.Int64 = f.count("1-based line number of the row in `source_file`")

    class Config:
        """Extra columns (custom fields) are allowed and kept."""

        strict = False
        coerce = False


def _money_has_currency(amount: str, data: pa.PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(pl.col(amount).is_null() | pl.col("currency").is_not_null())


class AccountSchema(CanonicalSchema):
    """Companies: CRM accounts (Salesforce Account, HubSpot company)."""

    account_id: pl.String = f.key("canonical account key, e.g. 'sf:001...' or 'hs:123'")
    name: pl.String = f.text("account name")
    domain: pl.String = f.text("primary web domain, lower case without 'www.'")
    industry: pl.String = f.text("industry as recorded in the CRM")
    employee_count: pl.Int64 = f.count("number of employees")
    annual_revenue: pl.Float64 = f.money("annual revenue in `currency`")
    currency: pl.String = f.currency()
    country: pl.String = f.text("billing country")
    region: pl.String = f.text("sales region (e.g. AMER, EMEA, APAC)")
    sales_division: pl.String = f.text("sales division that owns the account")
    parent_account_id: pl.String = f.key("parent account key", nullable=True)
    owner_id: pl.String = f.key("owning user key", nullable=True)
    created_at: UtcDatetime = f.at("when the account was created (UTC)")
    is_deleted: pl.Boolean = f.flag("soft-deleted in the source (kept, flagged)")
    merged_into_id: pl.String = f.key("surviving account key when merged", nullable=True)


class PersonSchema(CanonicalSchema):
    """People: leads, contacts and marketing-automation prospects."""

    person_id: pl.String = f.key("canonical person key, e.g. 'sf:00Q...' or 'hs:51'")
    person_type: pl.String = f.choice(
        "lead, contact, prospect or visitor", PERSON_TYPES, nullable=False
    )
    email: pl.String = f.text("email address as recorded")
    email_normalized: pl.String = f.text("trimmed, lower-cased email", str_matches=r"^[^A-Z\s]*$")
    first_name: pl.String = f.text("first name")
    last_name: pl.String = f.text("last name")
    title: pl.String = f.text("job title")
    company_name: pl.String = f.text("company as typed on the record (leads)")
    account_id: pl.String = f.key("account key (contacts; converted leads)", nullable=True)
    lead_source: pl.String = f.text("lead source picklist value as recorded")
    status_raw: pl.String = f.text("lead/contact status as recorded")
    lifecycle_stage_raw: pl.String = f.text("lifecycle stage as recorded (HubSpot)")
    country: pl.String = f.text("country")
    product_line: pl.String = f.text(
        "product line the person asked about (product-interest field of the lead/contact)"
    )
    created_at: UtcDatetime = f.at("when the person record was created (UTC)")
    is_converted: pl.Boolean = f.flag("a lead converted to a contact")
    converted_at: UtcDatetime = f.at("when the lead was converted (UTC)")
    converted_contact_id: pl.String = f.key("contact the lead converted into", nullable=True)
    converted_account_id: pl.String = f.key("account the lead converted into", nullable=True)
    converted_opportunity_id: pl.String = f.key("opportunity created at conversion", nullable=True)
    owner_id: pl.String = f.key("owning user key", nullable=True)
    is_deleted: pl.Boolean = f.flag("soft-deleted in the source (kept, flagged)")
    merged_into_id: pl.String = f.key("surviving person key when merged", nullable=True)
    golden_person_id: pl.String = f.key(
        "resolved person key (set by identity.resolve; one per real person)", nullable=True
    )

    @pa.dataframe_check(error="a converted lead needs `converted_at` or a converted id")
    @classmethod
    def converted_has_target(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """A lead flagged converted names when or into what it converted."""
        return data.lazyframe.select(
            pl.col("is_converted").not_()
            | pl.col("converted_at").is_not_null()
            | pl.col("converted_contact_id").is_not_null()
            | pl.col("converted_account_id").is_not_null()
            | (pl.col("person_type") != "lead")
        )


class CampaignSchema(CanonicalSchema):
    """Marketing programs (Salesforce Campaign, HubSpot campaign, ad campaigns mapped in)."""

    campaign_id: pl.String = f.key("canonical campaign key")
    name: pl.String = f.text("campaign name")
    type: pl.String = f.text("campaign type (Webinar, Trade Show, Paid Search, ...)")
    status: pl.String = f.text("campaign status")
    parent_campaign_id: pl.String = f.key("parent campaign key", nullable=True)
    start_date: pl.Date = f.date("first day of the campaign")
    end_date: pl.Date = f.date("last day of the campaign")
    budgeted_cost: pl.Float64 = f.money("budgeted cost in `currency`")
    actual_cost: pl.Float64 = f.money("actual cost in `currency` (not in `spend`)")
    currency: pl.String = f.currency()
    channel: pl.String = f.text("marketing channel the campaign belongs to")
    product_line: pl.String = f.text("product line the campaign promotes")
    sales_division: pl.String = f.text("sales division the campaign serves")
    utm_campaign: pl.String = f.text(
        "the utm_campaign / ad campaign name its links and ads carry (ties spend and clicks)"
    )

    @pa.dataframe_check(error="`start_date` is after `end_date`")
    @classmethod
    def dates_in_order(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """A campaign cannot end before it starts."""
        return data.lazyframe.select(
            pl.col("start_date").is_null()
            | pl.col("end_date").is_null()
            | (pl.col("start_date") <= pl.col("end_date"))
        )

    @pa.dataframe_check(error="a cost needs a `currency`")
    @classmethod
    def cost_has_currency(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Money is an amount plus a currency."""
        return data.lazyframe.select(
            (pl.col("budgeted_cost").is_null() & pl.col("actual_cost").is_null())
            | pl.col("currency").is_not_null()
        )


class CampaignMemberSchema(CanonicalSchema):
    """Membership of people in campaigns, with response status."""

    campaign_id: pl.String = f.key("campaign key")
    person_id: pl.String = f.key("person key")
    status: pl.String = f.text("member status as recorded (Sent, Responded, Attended, ...)")
    has_responded: pl.Boolean = f.flag("the member responded")
    first_responded_date: pl.Date = f.date("date of first response")
    created_at: UtcDatetime = f.at("when the person was added to the campaign (UTC)")


class TouchpointSchema(CanonicalSchema):
    """Every interaction: web sessions, form fills, email clicks, events, calls, ad clicks."""

    touchpoint_id: pl.String = f.key("canonical touchpoint key")
    person_id: pl.String = f.key("person key when known", nullable=True)
    anonymous_id: pl.String = f.key(
        "web visitor id (GA4 user_pseudo_id, Adobe visitor)", nullable=True
    )
    account_id: pl.String = f.key("account key when known", nullable=True)
    occurred_at: UtcDatetime = f.at("when the touch happened (UTC)", nullable=False)
    touch_type: pl.String = f.text(
        "web_session, form_fill, email_click, email_open, event, webinar, call, "
        "ad_click, campaign_response, sales_activity, ...",
        nullable=False,
    )
    is_marketing: pl.Boolean = f.flag("marketing touch (False for sales activities)")
    channel: pl.String = f.text("channel group (GA4 default grouping or campaign type)")
    subchannel: pl.String = f.text("finer channel (e.g. Paid Search > Brand)")
    source: pl.String = f.text("utm_source / referrer source")
    medium: pl.String = f.text("utm_medium")
    campaign_name: pl.String = f.text("utm_campaign or CRM campaign name")
    campaign_id: pl.String = f.key("CRM campaign key when known", nullable=True)
    content: pl.String = f.text("utm_content")
    term: pl.String = f.text("utm_term / keyword")
    referrer: pl.String = f.text("referring URL")
    click_id: pl.String = f.text("ad click id (gclid, msclkid, fbclid, li_fat_id)")
    session_id: pl.String = f.key("web session key", nullable=True)
    landing_page: pl.String = f.text("first page of the session")
    user_id: pl.String = f.text("logged-in user id sent to web analytics")

    @pa.dataframe_check(error="a touchpoint needs a `person_id`, `anonymous_id` or `account_id`")
    @classmethod
    def has_someone(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """A touch that belongs to nobody cannot be attributed."""
        return data.lazyframe.select(
            pl.col("person_id").is_not_null()
            | pl.col("anonymous_id").is_not_null()
            | pl.col("account_id").is_not_null()
        )


class OpportunitySchema(CanonicalSchema):
    """Sales opportunities / deals."""

    opportunity_id: pl.String = f.key("canonical opportunity key")
    account_id: pl.String = f.key("account key", nullable=True)
    name: pl.String = f.text("opportunity name")
    opportunity_type: pl.String = f.text("New Business, Renewal, Upsell, ... as recorded")
    stage_raw: pl.String = f.text("stage as recorded (StageName / dealstage label)")
    pipeline: pl.String = f.text("pipeline (HubSpot) or record type")
    is_closed: pl.Boolean = f.flag("closed (won or lost)")
    is_won: pl.Boolean = f.flag("closed won")
    amount: pl.Float64 = f.money("amount in `currency`")
    currency: pl.String = f.currency()
    amount_corporate: pl.Float64 = f.money(
        "amount converted to the corporate currency at close date"
    )
    probability_rate: pl.Float64 = f.text(
        "win probability 0–1", in_range={"min_value": 0, "max_value": 1}
    )
    created_at: UtcDatetime = f.at("when the opportunity was created (UTC)")
    close_date: pl.Date = f.date("expected or actual close date")
    closed_at: UtcDatetime = f.at("when the opportunity was closed (UTC), if known")
    lead_source: pl.String = f.text("lead source picklist value")
    primary_campaign_id: pl.String = f.key("primary campaign source key", nullable=True)
    sourced_by: pl.String = f.choice("marketing, sales, partner, web_direct or unknown", SOURCED_BY)
    product_line: pl.String = f.text("product line sold")
    sales_division: pl.String = f.text("sales division")
    owner_id: pl.String = f.key("owning user key", nullable=True)
    is_deleted: pl.Boolean = f.flag("soft-deleted in the source (kept, flagged)")
    merged_into_id: pl.String = f.key("surviving opportunity key when merged", nullable=True)

    @pa.dataframe_check(error="`is_won` without `is_closed`")
    @classmethod
    def won_is_closed(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """A won deal is a closed deal."""
        return data.lazyframe.select(pl.col("is_won").not_() | pl.col("is_closed"))

    @pa.dataframe_check(error="an `amount` needs a `currency`")
    @classmethod
    def amount_has_currency(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Money is an amount plus a currency."""
        return _money_has_currency("amount", data)


class OpportunityContactSchema(CanonicalSchema):
    """Contact roles: who of the buying committee is on an opportunity."""

    opportunity_id: pl.String = f.key("opportunity key")
    person_id: pl.String = f.key("person (contact) key")
    role: pl.String = f.text("role as recorded (Decision Maker, Influencer, ...)")
    is_primary: pl.Boolean = f.flag("the primary contact of the opportunity")


class StageHistorySchema(CanonicalSchema):
    """Field changes over time: lead status, lifecycle stage, opportunity stage, amount."""

    entity_type: pl.String = f.choice(
        "person, account, opportunity or campaign_member", ENTITY_TYPES, nullable=False
    )
    entity_id: pl.String = f.key("key of the changed record")
    field: pl.String = f.text(
        "canonical field name: status, lifecycle_stage, stage, amount, ...", nullable=False
    )
    old_value: pl.String = f.text("value before the change")
    new_value: pl.String = f.text("value after the change")
    changed_at: UtcDatetime = f.at("when the change happened (UTC)", nullable=False)


class SpendSchema(CanonicalSchema):
    """Daily advertising and program spend."""

    date: pl.Date = f.date("day of the spend", nullable=False)
    platform: pl.String = f.text("ad platform or cost source", nullable=False)
    ad_account_id: pl.String = f.key("ad account key", nullable=True)
    ad_campaign_id: pl.String = f.key("ad platform campaign key", nullable=True)
    ad_campaign_name: pl.String = f.text("ad platform campaign name (often the utm_campaign)")
    campaign_id: pl.String = f.key("CRM campaign key the spend maps to", nullable=True)
    channel: pl.String = f.text("channel the spend belongs to")
    currency: pl.String = f.currency()
    cost: pl.Float64 = f.money("cost in `currency`", nullable=False)
    cost_corporate: pl.Float64 = f.money("cost in the corporate currency at the day's rate")
    impressions: pl.Int64 = f.count("impressions")
    clicks: pl.Int64 = f.count("clicks")

    @pa.dataframe_check(error="spend needs a `currency`")
    @classmethod
    def cost_has_currency(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Spend without a currency cannot be converted or compared."""
        return data.lazyframe.select(pl.col("currency").is_not_null())


class FxRateSchema(CanonicalSchema):
    """Dated exchange rates to the corporate currency (Salesforce DatedConversionRate)."""

    currency: pl.String = f.currency("ISO code of the converted currency", nullable=False)
    corporate_currency: pl.String = f.currency("ISO code of the corporate currency")
    valid_from: pl.Date = f.date("first day the rate applies", nullable=False)
    valid_to: pl.Date = f.date("first day the rate no longer applies (exclusive); null = open")
    rate_to_corporate: pl.Float64 = pa.Field(
        gt=0, nullable=False, description="corporate units per one unit of `currency`"
    )


class IdentityLinkSchema(CanonicalSchema):
    """Evidence that two identifiers belong to one person (and, once resolved, whose)."""

    person_id: pl.String = f.key("resolved (golden) person key, when known", nullable=True)
    id_type: pl.String = f.text(
        "kind of identifier: anonymous_id, email, email_sha256, user_id, crm_id, ...",
        nullable=False,
    )
    id_value: pl.String = f.key("the identifier")
    linked_id_type: pl.String = f.text("kind of the identifier it is linked to")
    linked_id_value: pl.String = f.key("the identifier it is linked to", nullable=True)
    rule: pl.String = f.text("rule or event that produced the link", nullable=False)
    confidence: pl.Float64 = pa.Field(
        nullable=True, in_range={"min_value": 0, "max_value": 1}, description="0–1 confidence"
    )
    first_seen_at: UtcDatetime = f.at("first time the link was observed (UTC)")
    last_seen_at: UtcDatetime = f.at("last time the link was observed (UTC)")


class ActivitySchema(CanonicalSchema):
    """Sales and marketing activities: calls, meetings, emails, notes and tasks.

    Salesforce Task/Event, HubSpot engagements (calls, meetings, emails, notes, tasks) and
    call-tracking exports. A meeting with a person is the evidence that a meeting was
    set up with them (the sales-ready milestone is decided from it by ``clk.prepare``).
    """

    activity_id: pl.String = f.key("canonical activity key, e.g. 'sf:00T...' or 'hs:19732910159'")
    type: pl.String = f.choice(
        "call, meeting, email, note, task, message or other", ACTIVITY_TYPES, nullable=False
    )
    subtype: pl.String = f.text("subtype as recorded (TaskSubtype, EventSubtype, call type, ...)")
    subject: pl.String = f.text("subject or title")
    status: pl.String = f.text("status as recorded (Completed, Not Started, SCHEDULED, ...)")
    outcome: pl.String = f.text(
        "outcome as recorded (CallDisposition, meeting outcome, call disposition label)"
    )
    direction: pl.String = f.text("inbound or outbound (calls and emails), as recorded")
    owner_id: pl.String = f.key("user (owner) who did the activity", nullable=True)
    person_id: pl.String = f.key("person (lead/contact) the activity was with", nullable=True)
    account_id: pl.String = f.key("account the activity relates to", nullable=True)
    opportunity_id: pl.String = f.key("opportunity the activity relates to", nullable=True)
    campaign_id: pl.String = f.key("campaign the activity relates to", nullable=True)
    occurred_at: UtcDatetime = f.at(
        "when it happened or is due (UTC; a date-only due date is midnight UTC)"
    )
    created_at: UtcDatetime = f.at("when the activity was logged (UTC)")
    duration_seconds: pl.Int64 = f.count("duration in seconds (calls, meetings)")
    is_deleted: pl.Boolean = f.flag("soft-deleted in the source (kept, flagged)")


class UserSchema(CanonicalSchema):
    """CRM users and owners: who owns leads, contacts, accounts and deals."""

    user_id: pl.String = f.key("canonical user key, e.g. 'sf:005...' or 'hs:31000000'")
    name: pl.String = f.text("full name")
    first_name: pl.String = f.text("first name")
    last_name: pl.String = f.text("last name")
    email: pl.String = f.text("email address")
    title: pl.String = f.text("job title")
    role: pl.String = f.text("role name (Salesforce UserRole.Name, HubSpot role)")
    role_id: pl.String = f.key("role key in the source", nullable=True)
    team: pl.String = f.text("team (HubSpot primary team, Salesforce Department)")
    sales_division: pl.String = f.text(
        "sales division (Salesforce User.Division, else the role hierarchy)"
    )
    manager_id: pl.String = f.key("manager's user key", nullable=True)
    user_type: pl.String = f.text("user type as recorded (Standard, PowerPartner, PERSON, ...)")
    is_partner: pl.Boolean = f.flag("a partner (channel) user", nullable=True)
    is_active: pl.Boolean = f.flag("an active user", nullable=True)
    created_at: UtcDatetime = f.at("when the user was created (UTC)")
    is_deleted: pl.Boolean = f.flag("soft-deleted in the source (kept, flagged)")


class ProductSchema(CanonicalSchema):
    """Products sold (Salesforce Product2, HubSpot products)."""

    product_id: pl.String = f.key("canonical product key, e.g. 'sf:01t...' or 'hs:1234'")
    name: pl.String = f.text("product name")
    product_code: pl.String = f.text("product code / SKU")
    family: pl.String = f.text("product family as recorded (Product2.Family); the product line")
    description: pl.String = f.text("description")
    list_price: pl.Float64 = f.money("list price in `currency` (HubSpot price)")
    currency: pl.String = f.currency()
    is_active: pl.Boolean = f.flag("an active product", nullable=True)
    created_at: UtcDatetime = f.at("when the product was created (UTC)")
    is_deleted: pl.Boolean = f.flag("soft-deleted in the source (kept, flagged)")

    @pa.dataframe_check(error="a `list_price` needs a `currency`")
    @classmethod
    def price_has_currency(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Money is an amount plus a currency."""
        return _money_has_currency("list_price", data)


class OpportunityProductSchema(CanonicalSchema):
    """Opportunity line items: which products a deal sells, how many, for how much."""

    line_item_id: pl.String = f.key("canonical line item key, e.g. 'sf:00k...' or 'hs:987'")
    opportunity_id: pl.String = f.key("opportunity (deal) key", nullable=True)
    product_id: pl.String = f.key("product key", nullable=True)
    name: pl.String = f.text("line item name (usually the product name)")
    product_code: pl.String = f.text("product code / SKU")
    quantity: pl.Float64 = pa.Field(nullable=True, description="quantity sold")
    unit_price: pl.Float64 = f.money("sales price per unit in `currency`", signed=True)
    list_price: pl.Float64 = f.money("list price per unit in `currency`", signed=True)
    discount_rate: pl.Float64 = pa.Field(
        nullable=True,
        in_range={"min_value": 0, "max_value": 1},
        description="discount 0–1 (Salesforce Discount is in percent)",
    )
    total_amount: pl.Float64 = f.money("line total in `currency` (TotalPrice, amount)", signed=True)
    currency: pl.String = f.currency()
    total_amount_corporate: pl.Float64 = f.money(
        "line total converted to the corporate currency at `service_date` (else created)",
        signed=True,
    )
    service_date: pl.Date = f.date("service / start date of the line")
    created_at: UtcDatetime = f.at("when the line item was created (UTC)")
    is_deleted: pl.Boolean = f.flag("soft-deleted in the source (kept, flagged)")

    @pa.dataframe_check(error="a `total_amount` needs a `currency`")
    @classmethod
    def amount_has_currency(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """Money is an amount plus a currency."""
        return _money_has_currency("total_amount", data)


@dataclass(frozen=True)
class TableSpec:
    """A canonical table: its name, Pandera model and primary key."""

    name: str
    model: type[CanonicalSchema]
    key: tuple[str, ...]
    description: str
    defaults: tuple[tuple[str, object], ...] = (("is_deleted", False),)
    """Values for required columns a frame may omit (e.g. ``is_deleted=False``)."""

    @property
    def columns(self) -> dict[str, pl.DataType]:
        """Canonical columns in order (table columns first, lineage last) with dtypes."""
        return dict(_ordered_columns(self.model))

    @property
    def required(self) -> list[str]:
        """Columns that must be present (non-nullable)."""
        return [n for n, c in self.model.to_schema().columns.items() if not c.nullable]


@functools.cache
def _ordered_columns(model: type[CanonicalSchema]) -> dict[str, pl.DataType]:
    """:attr:`TableSpec.columns` of ``model``, built once (readers ask for every file)."""
    cols = {name: col.dtype.type for name, col in model.to_schema().columns.items()}
    lineage = list(CanonicalSchema.to_schema().columns)
    ordered = [c for c in cols if c not in lineage] + lineage
    return {c: cols[c] for c in ordered}


TABLES: dict[str, TableSpec] = {
    s.name: s
    for s in [
        TableSpec("accounts", AccountSchema, ("account_id",), "companies"),
        TableSpec(
            "people",
            PersonSchema,
            ("person_id",),
            "leads, contacts and prospects",
            (("is_deleted", False), ("is_converted", False)),
        ),
        TableSpec("campaigns", CampaignSchema, ("campaign_id",), "marketing programs"),
        TableSpec(
            "campaign_members",
            CampaignMemberSchema,
            ("campaign_id", "person_id"),
            "people in campaigns",
            (("has_responded", False),),
        ),
        TableSpec("touchpoints", TouchpointSchema, ("touchpoint_id",), "every interaction"),
        TableSpec("opportunities", OpportunitySchema, ("opportunity_id",), "deals"),
        TableSpec(
            "opportunity_contacts",
            OpportunityContactSchema,
            ("opportunity_id", "person_id"),
            "buying committee on each deal",
            (("is_primary", False),),
        ),
        TableSpec(
            "stage_history",
            StageHistorySchema,
            ("entity_type", "entity_id", "field", "changed_at", "new_value"),
            "field changes over time",
        ),
        TableSpec(
            "spend",
            SpendSchema,
            ("date", "platform", "ad_account_id", "ad_campaign_id", "ad_campaign_name"),
            "daily spend",
        ),
        TableSpec("fx_rates", FxRateSchema, ("currency", "valid_from"), "exchange rates"),
        TableSpec(
            "identity_links",
            IdentityLinkSchema,
            ("id_type", "id_value", "linked_id_type", "linked_id_value", "rule"),
            "identity evidence",
        ),
        TableSpec("activities", ActivitySchema, ("activity_id",), "sales and marketing activities"),
        TableSpec("users", UserSchema, ("user_id",), "CRM users and owners"),
        TableSpec("products", ProductSchema, ("product_id",), "products sold"),
        TableSpec(
            "opportunity_products",
            OpportunityProductSchema,
            ("line_item_id",),
            "opportunity line items",
        ),
    ]
}
"""Every canonical table by name."""
