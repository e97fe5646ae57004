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
        "product_line": ("product_interest", "Product interest", "Product Interest"),
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

MARKETING_EVENT_PARTICIPATION = HubSpotSpec(
    name="marketing_event_participation",
    table="touchpoints",
    key=None,
    fields={
        "source_id": ("id",),
        "person_id": ("associations.contact.contactId", "contactId", "contact_id"),
        "occurred_at": ("properties.occurredAt", "occurredAt", "occurred_at", "createdAt"),
        "campaign_name": ("associations.marketingEvent.name", "eventName", "event_name"),
        "event_id": (
            "associations.marketingEvent.marketingEventId",
            "marketingEventId",
            "marketing_event_id",
        ),
        "attendance_state": ("properties.attendanceState", "attendanceState", "attendance_state"),
    },
    ids=frozenset({"person_id"}),
    constants={"is_marketing": True},
    signature=frozenset(
        {
            "associationscontactcontactid",
            "associationsmarketingeventname",
            "propertiesattendancestate",
        }
    ),
    file_names=(
        "marketingeventparticipations",
        "marketingeventparticipation",
        "eventparticipations",
    ),
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

ENGAGEMENTS = HubSpotSpec(
    name="engagements",
    table="activities",
    key="activity_id",
    fields={
        "source_id": ("engagement_id", "Record ID", "Activity ID", "hs_object_id", "id"),
        "type_raw": ("type", "hs_engagement_type", "Engagement type"),
        "subtype": (
            "hs_activity_type",
            "Call and meeting type",
            "hs_task_type",
            "task_type",
            "Task type",
            "hs_communication_channel_type",
            "Channel type",
        ),
        "subject": (
            "hs_call_title",
            "Call Title",
            "hs_meeting_title",
            "Meeting name",
            "title",
            "hs_email_subject",
            "Email subject",
            "hs_task_subject",
            "Task Title",
            "hs_body_preview",
        ),
        "status": (
            "hs_call_status",
            "Call status",
            "hs_task_status",
            "Task status",
            "hs_email_status",
            "Email status",
        ),
        "outcome": (
            "hs_call_disposition",
            "Call outcome",
            "hs_meeting_outcome",
            "Meeting outcome",
            "meeting_outcome",
        ),
        "direction": (
            "hs_call_direction",
            "Call direction",
            "hs_email_direction",
            "Email direction",
        ),
        "owner_id": ("hubspot_owner_id", "Activity assigned to", "Assigned to", "owner_id"),
        "occurred_at": (
            "hs_timestamp",
            "Activity date",
            "Due date",
            "hs_meeting_start_time",
            "Meeting start time",
            "start_time",
            "timestamp",
        ),
        "end_at": ("hs_meeting_end_time", "Meeting end time", "end_time"),
        "created_at": ("hs_createdate", "Create Date", "Created at", "created_at", "createdate"),
        "duration_ms": ("hs_call_duration", "Call duration"),
        "contact_ids": ("Associated Contact IDs", "Associated Contact ID"),
        "company_ids": ("Associated Company IDs", "Associated Company ID"),
        "deal_ids": ("Associated Deal IDs", "Associated Deal ID"),
        "is_deleted": ("_fivetran_deleted", "archived", "is_deleted"),
    },
    ids=frozenset({"owner_id"}),
    signature=frozenset({"engagementid", "hstimestamp"}),
    file_names=(
        "engagement",
        "engagementdata",
        *(
            f"engagement{kind}{suffix}"
            for kind in ("call", "meeting", "email", "note", "task", "communication")
            for suffix in ("", "data")
        ),
        "calls",
        "meetings",
        "emails",
        "notes",
        "tasks",
        "allcalls",
        "allmeetings",
        "allemails",
        "allnotes",
        "alltasks",
        "activities",
    ),
)

OWNERS = HubSpotSpec(
    name="owners",
    table="users",
    key="user_id",
    fields={
        "source_id": ("owner_id", "Owner ID", "ownerId", "id"),
        "first_name": ("first_name", "firstName", "First Name"),
        "last_name": ("last_name", "lastName", "Last Name"),
        "email": ("email", "Email"),
        "user_type": ("type", "Owner type"),
        "active_user_id": ("active_user_id", "userId", "User ID"),
        "team": ("Primary team", "Team", "Teams"),
        "role": ("Role", "Permission set"),
        "sales_division": ("Business unit", "Business Unit", "hs_business_unit"),
        "is_active": ("is_active", "active", "Active"),
        "created_at": ("created_at", "createdAt", "Created at"),
        "is_deleted": ("_fivetran_deleted", "archived"),
    },
    ids=frozenset(),
    signature=frozenset({"ownerid", "firstname", "lastname", "email"}),
    file_names=("owner", "ownerdata", "owners"),
)

PRODUCTS = HubSpotSpec(
    name="products",
    table="products",
    key="product_id",
    fields={
        "source_id": ("Record ID", "Product ID", "id", "hs_object_id"),
        "name": ("name", "Name"),
        "product_code": ("hs_sku", "SKU"),
        "family": ("product_family", "Product family", "product_line", "Product line"),
        "description": ("description", "Description", "Product description"),
        "list_price": ("price", "Unit price", "Price"),
        "currency": ("hs_price_currency", "currency", "Currency"),
        "created_at": ("createdate", "Create Date"),
        "is_deleted": ("_fivetran_deleted", "archived", "is_deleted"),
    },
    signature=frozenset({"name", "price", "hssku"}),
    file_names=("product", "productdata", "products", "allproducts"),
)

LINE_ITEMS = HubSpotSpec(
    name="line_items",
    table="opportunity_products",
    key="line_item_id",
    fields={
        "source_id": ("Record ID", "Line Item ID", "id", "hs_object_id"),
        "name": ("name", "Name"),
        "product_id": ("hs_product_id", "Product ID"),
        "product_code": ("hs_sku", "SKU"),
        "quantity": ("quantity", "Quantity"),
        "unit_price": ("price", "Unit price"),
        "discount_rate": ("hs_discount_percentage", "Discount percentage"),
        "total_amount": ("amount", "Net price", "Amount"),
        "currency": ("hs_line_item_currency_code", "Currency"),
        "service_date": ("hs_recurring_billing_start_date", "Billing start date"),
        "created_at": ("createdate", "Create Date"),
        "deal_ids": ("Associated Deal IDs", "Associated Deal ID", "deal_id"),
        "is_deleted": ("_fivetran_deleted", "archived", "is_deleted"),
    },
    ids=frozenset({"product_id"}),
    signature=frozenset({"name", "price", "quantity", "hsproductid"}),
    file_names=("lineitem", "lineitemdata", "lineitems", "alllineitems"),
)

CONTACT_LIST = HubSpotSpec(
    name="contact_list",
    table="campaigns",
    key="campaign_id",
    fields={
        "source_id": ("id", "listId", "List ID", "ILS list ID"),
        "name": ("name", "List name", "Name"),
        "status": ("processing_type", "List type", "Type"),
    },
    constants={"type": "HubSpot list"},
    signature=frozenset({"name", "processingtype", "listversion"}),
    file_names=("contactlist", "contactlistdata", "lists"),
)

CONTACT_LIST_MEMBER = HubSpotSpec(
    name="contact_list_member",
    table="campaign_members",
    key=None,
    fields={
        "campaign_id": ("contact_list_id", "List ID"),
        "person_id": ("contact_id", "Contact ID", "Record ID"),
        "created_at": ("added_at", "Added to list on", "Added at"),
        "removed": ("_fivetran_deleted",),
    },
    ids=frozenset({"person_id"}),
    signature=frozenset({"contactid", "contactlistid", "addedat"}),
    file_names=("contactlistmember", "contactlistmemberdata", "listmemberships"),
)


def _lookup(name: str, fields: dict[str, tuple[str, ...]], *stems: str) -> HubSpotSpec:
    """A lookup table (no canonical table of its own), recognised by its file name only."""
    return HubSpotSpec(name=name, table=None, key=None, fields=fields, file_names=stems)


ENGAGEMENT_CONTACT = _lookup(
    "engagement_contact",
    {"engagement_id": ("engagement_id",), "contact_id": ("contact_id",)},
    "engagementcontact",
    "engagementcontactdata",
)
ENGAGEMENT_COMPANY = _lookup(
    "engagement_company",
    {"engagement_id": ("engagement_id",), "company_id": ("company_id",)},
    "engagementcompany",
    "engagementcompanydata",
)
ENGAGEMENT_DEAL = _lookup(
    "engagement_deal",
    {"engagement_id": ("engagement_id",), "deal_id": ("deal_id",)},
    "engagementdeal",
    "engagementdealdata",
)
OWNER_TEAM = _lookup(
    "owner_team",
    {"owner_id": ("owner_id",), "team_id": ("team_id",), "is_primary": ("is_team_primary",)},
    "ownerteam",
    "ownerteamdata",
)
TEAM = _lookup("team", {"team_id": ("id",), "label": ("name",)}, "team", "teamdata", "teams")
TEAM_USER = _lookup(
    "team_user", {"user_id": ("user_id",), "team_id": ("team_id",)}, "teamuser", "teamuserdata"
)
HS_USERS = _lookup(
    "users",
    {"user_id": ("id",), "role_id": ("role_id",), "team_id": ("primary_team_id",)},
    "users",
    "usersdata",
)
ROLE = _lookup("role", {"role_id": ("id",), "label": ("name",)}, "role", "roledata", "roles")
LINE_ITEM_DEAL = _lookup(
    "line_item_deal",
    {"line_item_id": ("line_item_id",), "deal_id": ("deal_id",)},
    "lineitemdeal",
    "lineitemdealdata",
)
FORM = HubSpotSpec(
    name="form",
    table=None,
    key=None,
    fields={"form_id": ("guid",), "label": ("name",), "form_type": ("form_type",)},
    signature=frozenset({"guid", "formtype", "name"}),
    file_names=("form", "formdata", "forms"),
)  # fmt: skip
EMAIL_EVENT_DETAIL = _lookup(
    "email_event_detail",
    {"source_id": ("id",), "url": ("url",), "referrer": ("referer",)},
    *(
        f"emailevent{kind}{suffix}"
        for kind in (
            "bounce",
            "click",
            "deferred",
            "delivered",
            "dropped",
            "forward",
            "open",
            "print",
            "sent",
            "spamreport",
            "statuschange",
        )
        for suffix in ("", "data", "datapostgres", "datasnowflake")
    ),
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
        MARKETING_EVENT_PARTICIPATION,
        EMAIL_EVENT,
        EMAIL_CAMPAIGN,
        PROPERTY_HISTORY,
        DEAL_PIPELINE,
        DEAL_PIPELINE_STAGE,
        DEAL_COMPANY,
        ENGAGEMENTS,
        OWNERS,
        PRODUCTS,
        LINE_ITEMS,
        CONTACT_LIST,
        CONTACT_LIST_MEMBER,
        ENGAGEMENT_CONTACT,
        ENGAGEMENT_COMPANY,
        ENGAGEMENT_DEAL,
        OWNER_TEAM,
        TEAM,
        TEAM_USER,
        HS_USERS,
        ROLE,
        LINE_ITEM_DEAL,
        FORM,
        EMAIL_EVENT_DETAIL,
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

ENGAGEMENT_TYPES: dict[str, str] = {
    "call": "call",
    "meeting": "meeting",
    "email": "email",
    "incomingemail": "email",
    "forwardedemail": "email",
    "note": "note",
    "task": "task",
    "communication": "message",
    "postalmail": "other",
}
"""Engagement ``type`` (normalized) or table kind → ``activities.type``."""

CALL_OUTCOMES: dict[str, str] = {
    "f240bbac-87c9-4f6e-bf70-924b57d47db7": "Connected",
    "a4c4c377-d246-4b32-a13b-75a56a4cd0ff": "Left live message",
    "b2cf5968-551e-4856-9783-52b3da59a7d0": "Left voicemail",
    "73a0d17f-1163-4015-bdd5-ec830791da20": "No answer",
    "9d9162e7-6cf3-4944-bf63-4dff82258764": "Busy",
    "17b47fee-58de-441e-a44c-c6300d46f273": "Wrong number",
}
"""HubSpot's default call outcome ids (``hs_call_disposition`` in the API and warehouse) →
the labels the UI export shows; custom outcomes keep their id."""

NOT_CANONICAL = (
    "ticket",
    "property",
    "propertyoption",
)
"""Stems of HubSpot warehouse tables that are recognised but not canonical."""
