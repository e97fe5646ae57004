"""Salesforce field → canonical column mappings (data, not code).

Each object maps canonical columns to the Salesforce field names that can feed them, in
order of preference. Names are matched after :func:`~closedloop_kit.io._parse.normalize_name`
(lower case, letters and digits only), so one alias covers the API name (``AnnualRevenue``),
Data Loader's ALL-CAPS header (``ANNUALREVENUE``), the warehouse-synced snake_case column
(``annual_revenue``) and, where they agree, the report label (``Annual Revenue``). Report
labels that differ from the API name are listed as extra aliases.

docs/howto-salesforce.md renders these tables; keep them in sync.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["LOOKUPS", "OBJECTS", "ObjectSpec"]


@dataclass(frozen=True)
class ObjectSpec:
    """How one Salesforce object becomes canonical rows.

    Attributes
    ----------
    name
        Salesforce object API name.
    table
        Primary canonical table (one row per source record); None for a lookup that
        enriches another object read from the same folder (UserRole, PricebookEntry).
    key
        Canonical key column built from the record ``Id``.
    fields
        Canonical column → Salesforce field aliases.
    ids
        Canonical columns holding Salesforce ids (normalised to 18 characters and
        prefixed ``sf:``).
    constants
        Canonical columns with a fixed value for this object.
    id_prefix
        Three-character key prefix of the object's record ids.
    signature
        Normalized field names that identify the object when the file name does not.
    """

    name: str
    table: str | None
    key: str | None
    fields: dict[str, tuple[str, ...]]
    ids: frozenset[str]
    constants: dict[str, object] = field(default_factory=dict)
    id_prefix: str | None = None
    signature: frozenset[str] = frozenset()
    file_names: tuple[str, ...] = ()


_ID = ("Id", "ID")

LEAD = ObjectSpec(
    name="Lead",
    table="people",
    key="person_id",
    fields={
        "source_id": (*_ID, "Lead ID"),
        "email": ("Email",),
        "first_name": ("FirstName",),
        "last_name": ("LastName",),
        "title": ("Title",),
        "company_name": ("Company", "Company / Account"),
        "lead_source": ("LeadSource",),
        "status_raw": ("Status", "Lead Status"),
        "country": ("Country",),
        "product_line": (
            "Product_Interest__c",
            "Product Interest",
            "Product_Line__c",
            "Product Line",
        ),
        "created_at": ("CreatedDate", "Create Date", "Created Date"),
        "is_converted": ("IsConverted", "Converted"),
        "converted_at": ("ConvertedDate", "Converted Date"),
        "converted_contact_id": ("ConvertedContactId", "Converted Contact ID"),
        "converted_account_id": ("ConvertedAccountId", "Converted Account ID"),
        "converted_opportunity_id": ("ConvertedOpportunityId", "Converted Opportunity ID"),
        "owner_id": ("OwnerId", "Lead Owner ID", "Owner ID"),
        "is_deleted": ("IsDeleted", "Deleted"),
        "merged_into_id": ("MasterRecordId", "Master Record ID"),
    },
    ids=frozenset(
        {
            "converted_contact_id",
            "converted_account_id",
            "converted_opportunity_id",
            "owner_id",
            "merged_into_id",
        }
    ),
    constants={"person_type": "lead"},
    id_prefix="00Q",
    signature=frozenset({"isconverted", "company", "status"}),
    file_names=("lead", "leads"),
)

CONTACT = ObjectSpec(
    name="Contact",
    table="people",
    key="person_id",
    fields={
        "source_id": (*_ID, "Contact ID"),
        "email": ("Email",),
        "first_name": ("FirstName",),
        "last_name": ("LastName",),
        "title": ("Title",),
        "account_id": ("AccountId", "Account ID"),
        "lead_source": ("LeadSource",),
        "country": ("MailingCountry", "Mailing Country"),
        "product_line": (
            "Product_Interest__c",
            "Product Interest",
            "Product_Line__c",
            "Product Line",
        ),
        "created_at": ("CreatedDate", "Created Date", "Create Date"),
        "owner_id": ("OwnerId", "Contact Owner ID", "Owner ID"),
        "is_deleted": ("IsDeleted", "Deleted"),
        "merged_into_id": ("MasterRecordId", "Master Record ID"),
    },
    ids=frozenset({"account_id", "owner_id", "merged_into_id"}),
    constants={"person_type": "contact"},
    id_prefix="003",
    signature=frozenset({"firstname", "lastname", "accountid"}),
    file_names=("contact", "contacts"),
)

ACCOUNT = ObjectSpec(
    name="Account",
    table="accounts",
    key="account_id",
    fields={
        "source_id": (*_ID, "Account ID"),
        "name": ("Name", "Account Name"),
        "domain": ("Website",),
        "industry": ("Industry",),
        "employee_count": ("NumberOfEmployees", "Employees"),
        "annual_revenue": ("AnnualRevenue",),
        "currency": ("CurrencyIsoCode", "Annual Revenue Currency"),
        "country": ("BillingCountry", "Billing Country"),
        "sales_division": ("Division", "Sales_Division__c", "Sales Division"),
        "region": ("Region__c", "Region"),
        "parent_account_id": ("ParentId", "Parent Account ID"),
        "owner_id": ("OwnerId", "Account Owner ID", "Owner ID"),
        "created_at": ("CreatedDate", "Created Date", "Create Date"),
        "is_deleted": ("IsDeleted", "Deleted"),
        "merged_into_id": ("MasterRecordId", "Master Record ID"),
    },
    ids=frozenset({"parent_account_id", "owner_id", "merged_into_id"}),
    id_prefix="001",
    signature=frozenset({"name", "industry", "billingcountry"}),
    file_names=("account", "accounts"),
)

OPPORTUNITY = ObjectSpec(
    name="Opportunity",
    table="opportunities",
    key="opportunity_id",
    fields={
        "source_id": (*_ID, "Opportunity ID"),
        "account_id": ("AccountId", "Account ID"),
        "name": ("Name", "Opportunity Name"),
        "opportunity_type": ("Type", "Opportunity Type"),
        "stage_raw": ("StageName", "Stage"),
        "pipeline": ("RecordTypeName", "Record Type", "Opportunity Record Type"),
        "is_closed": ("IsClosed", "Closed"),
        "is_won": ("IsWon", "Won"),
        "amount": ("Amount",),
        "currency": ("CurrencyIsoCode", "Amount Currency", "Opportunity Currency"),
        "probability_rate": ("Probability", "Probability (%)"),
        "created_at": ("CreatedDate", "Created Date", "Create Date"),
        "close_date": ("CloseDate", "Close Date"),
        "lead_source": ("LeadSource", "Lead Source"),
        "primary_campaign_id": ("CampaignId", "Primary Campaign Source ID", "Campaign ID"),
        "product_line": ("Product_Line__c", "Product Line"),
        "sales_division": ("Sales_Division__c", "Division", "Sales Division"),
        "owner_id": ("OwnerId", "Opportunity Owner ID", "Owner ID"),
        "is_deleted": ("IsDeleted", "Deleted"),
    },
    ids=frozenset({"account_id", "primary_campaign_id", "owner_id"}),
    id_prefix="006",
    signature=frozenset({"stagename", "closedate"}),
    file_names=("opportunity", "opportunities", "opps"),
)

OPPORTUNITY_CONTACT_ROLE = ObjectSpec(
    name="OpportunityContactRole",
    table="opportunity_contacts",
    key=None,
    fields={
        "source_id": _ID,
        "opportunity_id": ("OpportunityId", "Opportunity ID"),
        "person_id": ("ContactId", "Contact ID"),
        "role": ("Role", "Contact Role"),
        "is_primary": ("IsPrimary", "Primary"),
    },
    ids=frozenset({"opportunity_id", "person_id"}),
    id_prefix="00K",
    signature=frozenset({"opportunityid", "contactid", "role"}),
    file_names=("opportunitycontactrole", "opportunity_contact_role", "contactroles"),
)

CAMPAIGN = ObjectSpec(
    name="Campaign",
    table="campaigns",
    key="campaign_id",
    fields={
        "source_id": (*_ID, "Campaign ID"),
        "name": ("Name", "Campaign Name"),
        "type": ("Type", "Campaign Type"),
        "status": ("Status", "Campaign Status"),
        "parent_campaign_id": ("ParentId", "Parent Campaign ID"),
        "start_date": ("StartDate", "Start Date"),
        "end_date": ("EndDate", "End Date"),
        "budgeted_cost": ("BudgetedCost", "Budgeted Cost in Campaign", "Budgeted Cost"),
        "actual_cost": ("ActualCost", "Actual Cost in Campaign", "Actual Cost"),
        "currency": ("CurrencyIsoCode", "Campaign Currency"),
        "channel": ("Channel__c", "Channel"),
        "product_line": ("Product_Line__c", "Product Line"),
        "sales_division": ("Sales_Division__c", "Sales Division"),
        "utm_campaign": ("UTM_Campaign__c", "UTM Campaign", "utm_campaign"),
    },
    ids=frozenset({"parent_campaign_id"}),
    id_prefix="701",
    signature=frozenset({"budgetedcost", "actualcost"}),
    file_names=("campaign", "campaigns"),
)

CAMPAIGN_MEMBER = ObjectSpec(
    name="CampaignMember",
    table="campaign_members",
    key=None,
    fields={
        "source_id": _ID,
        "campaign_id": ("CampaignId", "Campaign ID"),
        "contact_id": ("ContactId", "Contact ID"),
        "lead_id": ("LeadId", "Lead ID"),
        "status": ("Status", "Member Status"),
        "has_responded": ("HasResponded", "Responded"),
        "first_responded_date": ("FirstRespondedDate", "First Responded Date"),
        "created_at": ("CreatedDate", "Member First Associated Date", "Created Date"),
    },
    ids=frozenset({"campaign_id", "contact_id", "lead_id"}),
    id_prefix="00v",
    signature=frozenset({"campaignid", "hasresponded"}),
    file_names=("campaignmember", "campaign_member", "campaignmembers"),
)

CAMPAIGN_INFLUENCE = ObjectSpec(
    name="CampaignInfluence",
    table="touchpoints",
    key="touchpoint_id",
    fields={
        "source_id": _ID,
        "campaign_id": ("CampaignId", "Campaign ID"),
        "opportunity_id": ("OpportunityId", "Opportunity ID"),
        "person_id": ("ContactId", "Contact ID"),
        "occurred_at": ("CreatedDate", "Created Date"),
        "influence": ("Influence", "Influence (%)"),
    },
    ids=frozenset({"campaign_id", "opportunity_id", "person_id"}),
    constants={"touch_type": "campaign_influence", "is_marketing": False},
    id_prefix="0Iz",
    signature=frozenset({"campaignid", "opportunityid", "influence"}),
    file_names=("campaigninfluence", "campaign_influence"),
)

OPPORTUNITY_HISTORY = ObjectSpec(
    name="OpportunityHistory",
    table="stage_history",
    key=None,
    fields={
        "source_id": _ID,
        "entity_id": ("OpportunityId", "Opportunity ID"),
        "new_value": ("StageName", "Stage", "To Stage"),
        "old_value": ("From Stage", "PrevStageName"),
        "changed_at": ("CreatedDate", "Last Modified", "Edit Date"),
        "amount": ("Amount",),
    },
    ids=frozenset({"entity_id"}),
    constants={"entity_type": "opportunity", "field": "stage"},
    id_prefix="008",
    signature=frozenset({"opportunityid", "stagename"}),
    file_names=("opportunityhistory", "opportunity_stage_history"),
)

OPPORTUNITY_FIELD_HISTORY = ObjectSpec(
    name="OpportunityFieldHistory",
    table="stage_history",
    key=None,
    fields={
        "source_id": _ID,
        "entity_id": ("OpportunityId", "Opportunity ID"),
        "field": ("Field", "Field / Event"),
        "old_value": ("OldValue", "Old Value"),
        "new_value": ("NewValue", "New Value"),
        "changed_at": ("CreatedDate", "Edit Date", "Created Date"),
    },
    ids=frozenset({"entity_id"}),
    constants={"entity_type": "opportunity"},
    signature=frozenset({"opportunityid", "field", "oldvalue", "newvalue"}),
    file_names=("opportunityfieldhistory", "opportunity_field_history"),
)

LEAD_HISTORY = ObjectSpec(
    name="LeadHistory",
    table="stage_history",
    key=None,
    fields={
        "source_id": _ID,
        "entity_id": ("LeadId", "Lead ID"),
        "field": ("Field", "Field / Event"),
        "old_value": ("OldValue", "Old Value"),
        "new_value": ("NewValue", "New Value"),
        "changed_at": ("CreatedDate", "Edit Date", "Created Date"),
    },
    ids=frozenset({"entity_id"}),
    constants={"entity_type": "person"},
    signature=frozenset({"leadid", "field", "oldvalue", "newvalue"}),
    file_names=("leadhistory", "lead_field_history"),
)

DATED_CONVERSION_RATE = ObjectSpec(
    name="DatedConversionRate",
    table="fx_rates",
    key=None,
    fields={
        "source_id": _ID,
        "currency": ("IsoCode", "Currency ISO Code", "Currency"),
        "conversion_rate": ("ConversionRate", "Conversion Rate"),
        "valid_from": ("StartDate", "Start Date"),
        "valid_to": ("NextStartDate", "Next Start Date"),
    },
    ids=frozenset(),
    signature=frozenset({"isocode", "conversionrate", "startdate"}),
    file_names=("datedconversionrate", "dated_conversion_rate"),
)

_ACTIVITY_COMMON: dict[str, tuple[str, ...]] = {
    "subject": ("Subject",),
    "type_raw": ("Type", "Activity Type"),
    "owner_id": ("OwnerId", "Assigned ID", "Assigned To ID", "Owner ID"),
    "who_id": ("WhoId", "Name ID", "Contact/Lead ID"),
    "what_id": ("WhatId", "Related To ID", "Related To: ID"),
    "account_id": ("AccountId", "Account ID"),
    "created_at": ("CreatedDate", "Created Date", "Create Date"),
    "is_deleted": ("IsDeleted", "Deleted"),
}

TASK = ObjectSpec(
    name="Task",
    table="activities",
    key="activity_id",
    fields={
        "source_id": (*_ID, "Activity ID", "Task ID"),
        **_ACTIVITY_COMMON,
        "subtype": ("TaskSubtype", "Task Subtype"),
        "status": ("Status",),
        "outcome": ("CallDisposition", "Call Result", "Call Disposition"),
        "direction": ("CallType", "Call Type"),
        "completed_at": ("CompletedDateTime", "Completed Date/Time"),
        "occurred_at": ("ActivityDate", "Due Date"),
        "duration_seconds": ("CallDurationInSeconds", "Call Duration", "Call Duration (seconds)"),
    },
    ids=frozenset({"owner_id", "who_id", "what_id", "account_id"}),
    id_prefix="00T",
    signature=frozenset({"whoid", "whatid", "status", "priority"}),
    file_names=("task", "tasks"),
)

EVENT = ObjectSpec(
    name="Event",
    table="activities",
    key="activity_id",
    fields={
        "source_id": (*_ID, "Activity ID", "Event ID"),
        **_ACTIVITY_COMMON,
        "subtype": ("EventSubtype", "Event Subtype"),
        "occurred_at": ("StartDateTime", "ActivityDateTime", "Start", "Start Date/Time"),
        "activity_date": ("ActivityDate",),
        "end_at": ("EndDateTime", "End", "End Date/Time"),
        "duration_minutes": ("DurationInMinutes", "Duration", "Duration (minutes)"),
    },
    ids=frozenset({"owner_id", "who_id", "what_id", "account_id"}),
    id_prefix="00U",
    signature=frozenset({"whoid", "whatid", "durationinminutes"}),
    file_names=("event", "events"),
)

USER = ObjectSpec(
    name="User",
    table="users",
    key="user_id",
    fields={
        "source_id": (*_ID, "User ID"),
        "name": ("Name", "Full Name"),
        "first_name": ("FirstName", "First Name"),
        "last_name": ("LastName", "Last Name"),
        "email": ("Email",),
        "title": ("Title",),
        "role_id": ("UserRoleId", "Role ID"),
        "role": ("Role", "Role: Name", "Role Name"),
        "team": ("Department",),
        "sales_division": ("Division", "Sales_Division__c", "Sales Division"),
        "manager_id": ("ManagerId", "Manager ID"),
        "user_type": ("UserType", "User Type", "User License"),
        "is_active": ("IsActive", "Active"),
        "created_at": ("CreatedDate", "Created Date"),
        "is_deleted": ("IsDeleted", "_fivetran_deleted", "Deleted"),
    },
    ids=frozenset({"role_id", "manager_id"}),
    id_prefix="005",
    signature=frozenset({"username", "userroleid"}),
    file_names=("user", "users"),
)

USER_ROLE = ObjectSpec(
    name="UserRole",
    table=None,
    key=None,
    fields={
        "source_id": (*_ID, "Role ID"),
        "name": ("Name", "Role Name", "Label"),
        "parent_role_id": ("ParentRoleId", "Parent Role ID"),
    },
    ids=frozenset({"parent_role_id"}),
    id_prefix="00E",
    signature=frozenset({"parentroleid", "name"}),
    file_names=("userrole", "userroles", "roles"),
)

PRODUCT2 = ObjectSpec(
    name="Product2",
    table="products",
    key="product_id",
    fields={
        "source_id": (*_ID, "Product ID"),
        "name": ("Name", "Product Name"),
        "product_code": ("ProductCode", "Product Code"),
        "family": ("Family", "Product Family"),
        "description": ("Description", "Product Description"),
        "is_active": ("IsActive", "Active"),
        "created_at": ("CreatedDate", "Created Date"),
        "is_deleted": ("IsDeleted", "Deleted"),
    },
    ids=frozenset(),
    id_prefix="01t",
    signature=frozenset({"productcode", "family"}),
    file_names=("product2", "product", "products"),
)

PRICEBOOK_ENTRY = ObjectSpec(
    name="PricebookEntry",
    table=None,
    key=None,
    fields={
        "source_id": (*_ID, "Price Book Entry ID"),
        "product_id": ("Product2Id", "Product ID"),
        "unit_price": ("UnitPrice", "List Price"),
        "currency": ("CurrencyIsoCode", "Currency"),
    },
    ids=frozenset({"product_id"}),
    id_prefix="01u",
    signature=frozenset({"pricebook2id", "product2id", "unitprice"}),
    file_names=("pricebookentry", "pricebookentries"),
)

OPPORTUNITY_LINE_ITEM = ObjectSpec(
    name="OpportunityLineItem",
    table="opportunity_products",
    key="line_item_id",
    fields={
        "source_id": (*_ID, "Opportunity Product ID", "Line Item ID"),
        "opportunity_id": ("OpportunityId", "Opportunity ID"),
        "product_id": ("Product2Id", "Product ID"),
        "pricebook_entry_id": ("PricebookEntryId", "Price Book Entry ID"),
        "name": ("Name", "Product Name", "Opportunity Product Name"),
        "product_code": ("ProductCode", "Product Code"),
        "quantity": ("Quantity",),
        "unit_price": ("UnitPrice", "Sales Price"),
        "list_price": ("ListPrice", "List Price"),
        "discount_rate": ("Discount", "Discount (%)"),
        "total_amount": ("TotalPrice", "Total Price"),
        "currency": ("CurrencyIsoCode", "Total Price Currency", "Opportunity Product Currency"),
        "service_date": ("ServiceDate", "Service Date"),
        "created_at": ("CreatedDate", "Created Date"),
        "is_deleted": ("IsDeleted", "Deleted"),
    },
    ids=frozenset({"opportunity_id", "product_id", "pricebook_entry_id"}),
    id_prefix="00k",
    signature=frozenset({"opportunityid", "pricebookentryid", "quantity"}),
    file_names=("opportunitylineitem", "opportunitylineitems", "opportunityproduct", "lineitems"),
)

OBJECTS: dict[str, ObjectSpec] = {
    o.name: o
    for o in (
        LEAD,
        CONTACT,
        ACCOUNT,
        OPPORTUNITY,
        OPPORTUNITY_CONTACT_ROLE,
        OPPORTUNITY_HISTORY,
        OPPORTUNITY_FIELD_HISTORY,
        LEAD_HISTORY,
        CAMPAIGN,
        CAMPAIGN_MEMBER,
        CAMPAIGN_INFLUENCE,
        DATED_CONVERSION_RATE,
        TASK,
        EVENT,
        USER,
        PRODUCT2,
        OPPORTUNITY_LINE_ITEM,
    )
}
"""Every Salesforce object the reader understands, by API name."""

LOOKUPS: dict[str, ObjectSpec] = {o.name: o for o in (USER_ROLE, PRICEBOOK_ENTRY)}
"""Objects read only to enrich another object from the same folder (no table of their own):
UserRole names the role (and division, by the hierarchy) of each User; PricebookEntry
gives the product of a line item exported without Product2Id."""

PARTNER_USER_TYPES = frozenset({"powerpartner", "partner"})
"""``User.UserType`` values (normalized) of partner-community users."""

FIELD_NAMES: dict[str, str] = {
    "StageName": "stage",
    "Amount": "amount",
    "CloseDate": "close_date",
    "Status": "status",
    "Probability": "probability",
    "ForecastCategoryName": "forecast_category",
    "Owner": "owner",
    "created": "created",
    "leadConverted": "converted",
    "leadMerged": "merged",
}
"""History ``Field`` values → canonical ``stage_history.field`` (others lower-cased)."""

HISTORY_TRACKED: dict[str, dict[str, tuple[str, ...]]] = {
    "Opportunity": {"stage": ("StageName", "Stage"), "amount": ("Amount",)},
    "Lead": {"status": ("Status", "Lead Status")},
    "Contact": {},
    "Account": {},
}
"""Fields whose changes across warehouse history-mode versions become stage_history."""

NOT_CANONICAL = frozenset(
    {
        "Case",
        "Solution",
        "Order",
    }
)
"""Salesforce objects recognised but not part of the canonical model (reported, skipped)."""

KEY_PREFIXES: dict[str, str] = {
    "00Q": "Lead",
    "003": "Contact",
    "001": "Account",
    "006": "Opportunity",
    "00K": "OpportunityContactRole",
    "008": "OpportunityHistory",
    "701": "Campaign",
    "00v": "CampaignMember",
    "500": "Case",
    "501": "Solution",
    "00T": "Task",
    "00U": "Event",
    "005": "User",
    "00E": "UserRole",
    "801": "Order",
    "01t": "Product2",
    "00k": "OpportunityLineItem",
    "01u": "PricebookEntry",
}
"""Record id key prefixes → object (detection)."""
