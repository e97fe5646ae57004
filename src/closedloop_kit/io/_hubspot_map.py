"""HubSpot property → canonical column mappings (data, not code).

Aliases are matched after :func:`~closedloop_kit.io._parse.normalize_name` and after
removing the warehouse ``property_`` prefix, so ``"Create Date"`` (CRM export label),
``createdate`` (internal name) and ``property_createdate`` (warehouse column) all match
the alias ``createdate``. docs/howto-hubspot.md renders these tables; keep them in sync.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["LIFECYCLE_DATES", "OBJECTS", "HubSpotSpec"]


@dataclass(frozen=True)
class HubSpotSpec:
    """How one HubSpot export becomes canonical rows.

    Attributes
    ----------
    name
        Object (``contacts``, ``deals``, ...).
    table
        Primary canonical table, or None for lookups folded into other files.
    key
        Canonical key column built from the record id (``hs:<id>``).
    fields
        Canonical (or helper) column → property aliases.
    ids
        Columns holding HubSpot ids (kept as text, prefixed ``hs:``).
    constants
        Fixed canonical values.
    signature
        Normalized columns that identify the export.
    file_names
        File stems (normalized) that name the export.
    """

    name: str
    table: str | None
    key: str | None
    fields: dict[str, tuple[str, ...]]
    ids: frozenset[str] = frozenset()
    constants: dict[str, object] = field(default_factory=dict)
    signature: frozenset[str] = frozenset()
    file_names: tuple[str, ...] = ()


CONTACTS = HubSpotSpec(
    name="contacts",
    table="people",
    key="person_id",
    fields={
        "source_id": ("Record ID", "Contact ID", "id", "vid", "hs_object_id"),
        "email": ("email", "Email"),
        "first_name": ("firstname", "First Name"),
        "last_name": ("lastname", "Last Name"),
        "title": ("jobtitle", "Job Title"),
        "company_name": ("company", "Company Name"),
        "account_id": (
            "Associated Company IDs",
            "associatedcompanyid",
            "Associated Company ID",
            "Company ID",
        ),
        "lead_source": ("hs_analytics_source", "Original Source", "Original Source Type"),
        "status_raw": ("hs_lead_status", "Lead Status"),
        "lifecycle_stage_raw": ("lifecyclestage", "Lifecycle Stage"),
        "country": ("country", "Country/Region", "Country"),
        "created_at": ("createdate", "Create Date", "created_at"),
        "owner_id": ("hubspot_owner_id", "Contact owner", "HubSpot Owner ID", "owner_id"),
        "is_deleted": ("_fivetran_deleted", "is_deleted", "archived"),
        "merged_ids": ("hs_merged_object_ids", "Merged Contact IDs", "Merged Record IDs"),
    },
    ids=frozenset({"account_id", "owner_id"}),
    constants={"person_type": "contact"},
    signature=frozenset({"email", "lifecyclestage"}),
    file_names=("contacts", "contact", "contactdata", "allcontacts"),
)

COMPANIES = HubSpotSpec(
    name="companies",
    table="accounts",
    key="account_id",
    fields={
        "source_id": ("Record ID", "Company ID", "id", "company_id", "hs_object_id"),
        "name": ("name", "Company name", "Company Name"),
        "domain": ("domain", "Company Domain Name", "website", "Website URL"),
        "industry": ("industry", "Industry"),
        "employee_count": ("numberofemployees", "Number of Employees"),
        "annual_revenue": ("annualrevenue", "Annual Revenue"),
        "currency": ("hs_currency_code", "Currency"),
        "country": ("country", "Country/Region"),
        "created_at": ("createdate", "Create Date"),
        "owner_id": ("hubspot_owner_id", "Company owner", "owner_id"),
        "is_deleted": ("is_deleted", "_fivetran_deleted", "archived"),
        "merged_ids": ("hs_merged_object_ids", "Merged Company IDs"),
    },
    ids=frozenset({"owner_id"}),
    signature=frozenset({"name", "industry", "annualrevenue"}),
    file_names=(
        "companies",
        "company",
        "companydata",
        "allcompanies",
        "companydatadatabricks",
        "companydatapostgres",
        "companydatasnowflake",
    ),
)

DEALS = HubSpotSpec(
    name="deals",
    table="opportunities",
    key="opportunity_id",
    fields={
        "source_id": ("Record ID", "Deal ID", "deal_id", "id", "hs_object_id"),
        "name": ("dealname", "Deal Name"),
        "opportunity_type": ("dealtype", "Deal Type"),
        "stage_raw": ("dealstage", "Deal Stage", "deal_pipeline_stage_id"),
        "pipeline": ("pipeline", "Pipeline", "deal_pipeline_id"),
        "amount": ("amount", "Amount"),
        "currency": ("deal_currency_code", "Currency"),
        "probability_rate": ("hs_deal_stage_probability", "Deal probability"),
        "created_at": ("createdate", "Create Date"),
        "close_date": ("closedate", "Close Date"),
        "lead_source": ("hs_analytics_source", "Original Source Type", "Original Source"),
        "owner_id": ("hubspot_owner_id", "Deal owner", "owner_id"),
        "is_deleted": ("is_deleted", "_fivetran_deleted", "archived"),
        "account_id": ("Associated Company IDs", "Associated Company ID", "associatedcompanyids"),
        "contact_ids": ("Associated Contact IDs", "associatedvids"),
        "is_closed": ("hs_is_closed", "Is Closed"),
        "is_won": ("hs_is_closed_won", "Is closed won"),
        "merged_ids": ("hs_merged_object_ids", "Merged Deal IDs"),
    },
    ids=frozenset({"account_id", "owner_id"}),
    signature=frozenset({"dealname"}),
    file_names=("deals", "deal", "dealdata", "alldeals"),
)

DEAL_CONTACT = HubSpotSpec(
    name="deal_contact",
    table="opportunity_contacts",
    key=None,
    fields={
        "opportunity_id": ("deal_id", "Deal ID"),
        "person_id": ("contact_id", "Contact ID"),
        "role": ("category", "type_id", "Association label"),
    },
    ids=frozenset({"opportunity_id", "person_id"}),
    signature=frozenset({"dealid", "contactid"}),
    file_names=("dealcontact", "dealcontactdata"),
)

DEAL_STAGE = HubSpotSpec(
    name="deal_stage",
    table="stage_history",
    key=None,
    fields={
        "entity_id": ("deal_id",),
        "new_value": ("value", "dealstage"),
        "changed_at": ("date_entered", "_fivetran_start", "timestamp"),
    },
    ids=frozenset({"entity_id"}),
    constants={"entity_type": "opportunity", "field": "stage"},
    signature=frozenset({"dealid", "dateentered", "value"}),
    file_names=("dealstage", "dealstagedata"),
)

CONTACT_MERGE_AUDIT = HubSpotSpec(
    name="contact_merge_audit",
    table="identity_links",
    key=None,
    fields={
        "survivor": ("canonical_vid",),
        "merged": ("vid_to_merge",),
        "first_seen_at": ("timestamp",),
    },
    signature=frozenset({"canonicalvid", "vidtomerge"}),
    file_names=("contactmergeaudit", "contactmergeauditdata"),
)

MERGED_DEAL = HubSpotSpec(
    name="merged_deal",
    table="identity_links",
    key=None,
    fields={"survivor": ("deal_id",), "merged": ("merged_deal_id",)},
    signature=frozenset({"dealid", "mergeddealid"}),
    file_names=("mergeddeal", "mergeddealdata"),
)

FORM_SUBMISSION = HubSpotSpec(
    name="contact_form_submission",
    table="touchpoints",
    key=None,
    fields={
        "person_id": ("contact_id",),
        "occurred_at": ("timestamp",),
        "landing_page": ("page_url",),
        "campaign_name": ("title",),
        "form_id": ("form_id",),
        "conversion_id": ("conversion_id",),
    },
    ids=frozenset({"person_id"}),
    constants={"touch_type": "form_fill", "is_marketing": True},
    signature=frozenset({"formid", "contactid", "conversionid"}),
    file_names=("contactformsubmission", "contactformsubmissiondata", "formsubmissions"),
)

EMAIL_EVENT = HubSpotSpec(
    name="email_event",
    table="touchpoints",
    key="touchpoint_id",
    fields={
        "source_id": ("id",),
        "occurred_at": ("created",),
        "event_type": ("type",),
        "recipient": ("recipient",),
        "campaign_id": ("email_campaign_id",),
    },
    constants={"is_marketing": True, "channel": "Email", "medium": "email"},
    signature=frozenset({"emailcampaignid", "recipient", "type", "created"}),
    file_names=("emailevent", "emaileventdata"),
)

EMAIL_CAMPAIGN = HubSpotSpec(
    name="email_campaign",
    table="campaigns",
    key="campaign_id",
    fields={
        "source_id": ("id",),
        "name": ("name",),
        "type": ("type",),
    },
    constants={"channel": "Email"},
    signature=frozenset({"appid", "contentid", "numincluded", "subject"}),
    file_names=("emailcampaign", "emailcampaigndata"),
)

PROPERTY_HISTORY = HubSpotSpec(
    name="property_history",
    table="stage_history",
    key=None,
    fields={
        "entity_id": ("contact_id", "deal_id", "company_id"),
        "property": ("name",),
        "new_value": ("value",),
        "changed_at": ("timestamp",),
    },
    signature=frozenset({"timestamp", "name", "value", "source"}),
    file_names=(
        "contactpropertyhistory",
        "contactpropertyhistorydata",
        "dealpropertyhistory",
        "dealpropertyhistorydata",
        "companypropertyhistory",
        "companypropertyhistorydata",
    ),
)

DEAL_PIPELINE = HubSpotSpec(
    name="deal_pipeline",
    table=None,
    key=None,
    fields={"pipeline_id": ("pipeline_id",), "label": ("label",)},
    signature=frozenset({"pipelineid", "label", "displayorder"}),
    file_names=("dealpipeline", "dealpipelinedata"),
)

DEAL_PIPELINE_STAGE = HubSpotSpec(
    name="deal_pipeline_stage",
    table=None,
    key=None,
    fields={
        "stage_id": ("stage_id",),
        "label": ("label",),
        "is_closed": ("is_closed",),
        "is_won": ("closed_won",),
        "probability": ("probability",),
    },
    signature=frozenset({"stageid", "closedwon", "isclosed"}),
    file_names=("dealpipelinestage", "dealpipelinestagedata"),
)

DEAL_COMPANY = HubSpotSpec(
    name="deal_company",
    table=None,
    key=None,
    fields={"deal_id": ("deal_id",), "company_id": ("company_id",)},
    signature=frozenset({"dealid", "companyid"}),
    file_names=("dealcompany", "dealcompanydata"),
)

OBJECTS: dict[str, HubSpotSpec] = {
    s.name: s
    for s in (
        CONTACTS,
        COMPANIES,
        DEALS,
        DEAL_CONTACT,
        DEAL_STAGE,
        CONTACT_MERGE_AUDIT,
        MERGED_DEAL,
        FORM_SUBMISSION,
        EMAIL_EVENT,
        EMAIL_CAMPAIGN,
        PROPERTY_HISTORY,
        DEAL_PIPELINE,
        DEAL_PIPELINE_STAGE,
        DEAL_COMPANY,
    )
}
"""Every HubSpot export the reader understands, by name."""

LIFECYCLE_DATES: dict[str, tuple[str, ...]] = {
    "subscriber": ("Became a Subscriber Date", "hs_lifecyclestage_subscriber_date"),
    "lead": ("Became a Lead Date", "hs_lifecyclestage_lead_date"),
    "marketingqualifiedlead": (
        "Became a Marketing Qualified Lead Date",
        "hs_lifecyclestage_marketingqualifiedlead_date",
    ),
    "salesqualifiedlead": (
        "Became a Sales Qualified Lead Date",
        "hs_lifecyclestage_salesqualifiedlead_date",
    ),
    "opportunity": ("Became an Opportunity Date", "hs_lifecyclestage_opportunity_date"),
    "customer": ("Became a Customer Date", "hs_lifecyclestage_customer_date"),
    "evangelist": ("Became an Evangelist Date", "hs_lifecyclestage_evangelist_date"),
    "other": ("Became an Other Lifecycle Date", "hs_lifecyclestage_other_date"),
}
"""Lifecycle stage → "Became a … Date" property; each date is a stage_history row."""

TRACKED_PROPERTIES: dict[str, str] = {
    "lifecyclestage": "lifecycle_stage",
    "hs_lead_status": "status",
    "dealstage": "stage",
    "amount": "amount",
    "closedate": "close_date",
}
"""Property history names → stage_history ``field``; other properties are not loaded."""

EMAIL_TOUCH_TYPES: dict[str, str] = {"OPEN": "email_open", "CLICK": "email_click"}
"""Email event types that are touchpoints; the others (SENT, DELIVERED, ...) are counted."""

NOT_CANONICAL = (
    "engagement",
    "ticket",
    "owner",
    "users",
    "team",
    "role",
    "property",
    "propertyoption",
    "contactlist",
    "contactlistmember",
    "form",
    "emaileventbounce",
    "emaileventclick",
    "emaileventopen",
    "emaileventdelivered",
    "emaileventdropped",
    "emaileventdeferred",
    "emaileventforward",
    "emaileventprint",
    "emaileventsent",
    "emaileventspamreport",
    "emaileventstatuschange",
    "ticket",
)
"""Stems of HubSpot warehouse tables that are recognised but not canonical."""
