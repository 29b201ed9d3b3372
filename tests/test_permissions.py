"""The permission table: every field of the schema, who may read it (the four roles, and `None`
for an anonymous caller), and a walk of the whole table for each of them (rules ACC-2, ACC-3,
ACC-5)."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLObjectType, get_named_type

from billing.access import Role
from schema import schema
from tests.conftest import GraphQLClient

Callers = frozenset[Role | None]
ANY: Callers = frozenset(Role)  # every member, signed in
BILLING: Callers = frozenset({Role.OWNER, Role.BILLING_ADMIN})
PUBLIC: Callers = frozenset({*Role, None})  # signed in or not


def _fields(type_name: str, callers: Callers, *names: str) -> dict[tuple[str, str], Callers]:
    return {(type_name, name): callers for name in names}


# rule ACC-3: an organization's money for billing roles; plan, status and counts for every member;
# the catalog, list prices included, for everyone. Price and Money carry no permission of their
# own: the field that returns one decides (list prices are public, `creditBalance` is not).
PERMISSIONS: dict[tuple[str, str], Callers] = {
    **_fields("Query", ANY, "viewer", "organization"),
    **_fields("Query", PUBLIC, "catalog"),
    **_fields("Viewer", ANY, "user", "memberships"),
    **_fields("User", ANY, "id", "email", "name"),
    **_fields("Membership", ANY, "role", "organization"),
    **_fields(
        "Organization",
        ANY,
        "id",
        "slug",
        "name",
        "viewerRole",
        "members",
        "workspaces",
        "subscription",
    ),
    **_fields("Organization", BILLING, "creditBalance"),
    # CUR-1: the currency an organization is billed in is no secret of its members.
    **_fields("Organization", ANY, "currency"),
    **_fields("Member", ANY, "user", "role"),
    **_fields("Workspace", ANY, "id", "slug", "name", "archivedAt"),
    **_fields(
        "Subscription",
        ANY,
        "id",
        "status",
        "billingInterval",
        "currentPeriodStart",
        "currentPeriodEnd",
        "nextBillingDate",
        "trialEndsAt",
        "cancelAt",
        "items",
    ),
    **_fields("Subscription", BILLING, "recurringAmount", "upcomingInvoice"),
    **_fields(
        "UpcomingInvoice",
        BILLING,
        "status",
        "kind",
        "lines",
        "total",
        "tax",
        "creditApplied",
        "amountDue",
        "issuesAt",
        "periodStart",
        "periodEnd",
        "discountTotal",
    ),
    **_fields(
        "SubscriptionItem",
        ANY,
        "product",
        "plan",
        "seats",
        "contactLimit",
        "addOns",
        "upgradePreference",
        "autoDowngrade",
        "automaticChargesPaused",
        "scheduledChange",
        "prepaidPeriods",
    ),
    **_fields("SubscriptionItem", BILLING, "recurringAmount", "automaticChargesPauseReason"),
    # Issue 14, the billing page: the notice date is a date, the overage's cost is money.
    **_fields("Subscription", ANY, "cancellationDate"),
    **_fields("SubscriptionItem", BILLING, "flexibleOverages"),
    **_fields("FlexibleOverage", BILLING, "metric", "volume", "amount"),
    **_fields("Catalog", PUBLIC, "currency", "currencies", "products", "product"),
    **_fields(
        "Product",
        PUBLIC,
        "code",
        "name",
        "metrics",
        "intervals",
        "plans",
        "bundles",
        "addOns",
        "contactLimitLadder",
        "policy",
    ),
    **_fields("Product", PUBLIC, "seatPrices"),
    **_fields(
        "Plan",
        PUBLIC,
        "code",
        "name",
        "rank",
        "bundle",
        "features",
        "limits",
        "seatsIncluded",
        "maxSeats",
    ),
    **_fields("Plan", PUBLIC, "prices"),
    **_fields("Limit", PUBLIC, "metric", "value"),
    **_fields("AddOn", PUBLIC, "code", "name", "minPlanRank", "prices"),
    **_fields("ContactLimitStep", PUBLIC, "contactLimit", "prices"),
    **_fields("Bundle", PUBLIC, "code", "name", "includes", "plans"),
    **_fields(
        "ProductPolicy",
        PUBLIC,
        "upgradeProration",
        "downgradeTiming",
        "cancellationNotice",
        "retentionDays",
        "alertThresholds",
        "upgradePreferences",
        "defaultPreference",
        "autoDowngradeAvailable",
        "autoscaling",
        "billingAdminMayCancel",
        "onDemand",
    ),
    **_fields("OnDemandPricing", PUBLIC, "metric", "blockSize", "blockPrice"),
    **_fields("Price", PUBLIC, "interval", "amount", "version"),
    **_fields("Money", PUBLIC, "amount", "currency", "formatted"),
    # Issue 3: previews, invoices, payment methods, mutations and their results.
    **_fields("Query", BILLING, "previewPlanChange"),
    **_fields(
        "PlanChangePreview",
        BILLING,
        "kind",
        "timing",
        "amountDueNow",
        "lines",
        "total",
        "tax",
        "creditApplied",
        "creditBalanceAfter",
        "recurringAmount",
        "effectiveAt",
        "nextBillingDate",
        "featuresLost",
        "replacesScheduledChange",
        "notes",
        "blockers",
        "discountTotal",
    ),
    **_fields(
        "PreviewLine",
        BILLING,
        "description",
        "amount",
        "discount",
        "periodStart",
        "periodEnd",
        "tax",
        "taxRate",
        "total",
    ),
    # TAX-1, TAX-2: what is paid, so billing roles only (ACC-3).
    **_fields("TaxSummary", BILLING, "rates", "total", "legend", "sellerTaxId"),
    **_fields("TaxRateTotal", BILLING, "rate", "taxable", "tax"),
    **_fields(
        "TaxRate",
        BILLING,
        "name",
        "percent",
        "inclusive",
        "country",
        "region",
        "reverseCharge",
        "label",
    ),
    **_fields("Blocker", BILLING, "code", "message"),
    **_fields(
        "Organization",
        BILLING,
        "invoices",
        "invoice",
        "paymentMethods",
        "notifications",
        "billingInfo",
        "accountChangeRequests",
    ),
    **_fields(
        "BillingInfo",
        BILLING,
        "companyName",
        "billingEmail",
        "addressLine1",
        "addressLine2",
        "city",
        "postalCode",
        "country",
        "region",
        "taxId",
        "contactName",
    ),
    **_fields("InvoiceParty", BILLING, "name", "lines"),
    **_fields("Notification", BILLING, "kind", "message", "createdAt"),
    **_fields("Organization", ANY, "featureSettings"),
    **_fields("FeatureSetting", ANY, "feature", "key", "value", "active"),
    **_fields("Subscription", ANY, "cancelReason", "scheduledChange"),
    **_fields("ScheduledChange", ANY, "effectiveAt", "billingInterval", "plan"),
    **_fields("InvoiceConnection", BILLING, "edges", "pageInfo", "totalCount"),
    # CRN-1: credit notes, as invoices: billing roles only (ACC-3).
    **_fields("Organization", BILLING, "creditNotes"),
    **_fields("Invoice", BILLING, "creditNotes"),
    **_fields("PlanChangePreview", BILLING, "creditNote"),
    **_fields("CreditNoteConnection", BILLING, "edges", "pageInfo", "totalCount"),
    **_fields("CreditNoteEdge", BILLING, "cursor", "node"),
    **_fields(
        "CreditNote",
        BILLING,
        "id",
        "number",
        "invoiceId",
        "invoice",
        "currency",
        "subtotal",
        "tax",
        "taxSummary",
        "total",
        "reason",
        "destination",
        "issuedAt",
        "lines",
        "pdfUrl",
    ),
    **_fields("CreditNoteLine", BILLING, "description", "amount", "tax", "taxRate", "total"),
    **_fields(
        "CreditNotePreview",
        BILLING,
        "destination",
        "lines",
        "subtotal",
        "tax",
        "taxSummary",
        "total",
    ),
    **_fields("InvoiceEdge", BILLING, "cursor", "node"),
    **_fields("PageInfo", BILLING, "hasNextPage", "endCursor"),
    **_fields(
        "Invoice",
        BILLING,
        "id",
        "number",
        "kind",
        "status",
        "total",
        "tax",
        "creditApplied",
        "amountDue",
        "issuedAt",
        "dueAt",
        "paidAt",
        "periodStart",
        "periodEnd",
        "lines",
        "issuer",
        "billedTo",
        "pdfUrl",
        "paymentClientSecret",
        "discountTotal",
        "disputes",
        "disputed",
    ),
    **_fields(
        "Dispute", BILLING, "id", "amount", "reason", "status", "openedAt", "closedAt"
    ),  # INV-5
    **_fields(
        "InvoiceLine",
        BILLING,
        "description",
        "amount",
        "discount",
        "periodStart",
        "periodEnd",
        "tax",
        "taxRate",
        "total",
    ),
    **_fields("PaymentMethod", BILLING, "id", "brand", "last4", "expMonth", "expYear", "isDefault"),
    # ACC-2: billing actions; ACC-4: cancelling is the owner's.
    **_fields(
        "Mutation",
        BILLING,
        "subscribe",
        "changePlan",
        "reactivateSubscription",
        "requestAccountChange",
        "replacePaymentMethod",
        "advanceTestClock",
        "payInvoice",
        "completeTestPaymentAction",
        "createSetupIntent",
        "updateBillingInfo",
        "setOrganizationCurrency",
    ),
    **_fields("Mutation", frozenset({Role.OWNER}), "cancelSubscription"),
    # INV-5: refunds are for operators' API keys (scope billing:refund), never for a user's token.
    **_fields("Mutation", frozenset(), "refundInvoice"),
    # EVT-1: webhook endpoints are for the SaaS backend's platform key, never for a user's token.
    **_fields("Query", frozenset(), "webhookEndpoints", "webhookDeliveries"),
    **_fields(
        "Mutation",
        frozenset(),
        "registerWebhookEndpoint",
        "rotateWebhookSecret",
        "disableWebhookEndpoint",
        "resendWebhookDelivery",
    ),
    # USE-1: API keys with usage:write; in sandbox mode (as here) billing managers too.
    **_fields("Mutation", BILLING, "recordUsage", "setUpgradePreference", "setAutoDowngrade"),
    # USE-3, ACC-3: usage counts are for every member.
    **_fields("Query", ANY, "usageGate"),
    **_fields("Organization", ANY, "usage", "usageByWorkspace", "usageHistory"),
    **_fields("WorkspaceUsage", ANY, "workspace", "name", "archived", "product", "metric", "used"),
    **_fields("UsageMonth", ANY, "month", "periodStart", "counts"),
    **_fields("UsageCount", ANY, "product", "metric", "used"),
    **_fields(
        "UsageMeter",
        ANY,
        "product",
        "metric",
        "used",
        "limit",
        "percent",
        "periodStart",
        "workspace",
    ),
    **_fields("UsageGate", ANY, "allowed", "reason", "used", "limit"),
    **_fields("UsageMeter", BILLING, "onDemandBlocks", "onDemandCost"),
    # PRV-1, ACC-6: provisioning is for platform keys only, never for a user's token.
    **_fields("Query", frozenset(), "organizations"),
    **_fields(
        "Mutation",
        frozenset(),
        "createOrganization",
        "addMember",
        "changeMemberRole",
        "transferOwnership",
        "removeMember",
        "createWorkspace",
        "archiveWorkspace",
        "startTrial",
        "setProvisionedOrganizationCurrency",
    ),
    # EVT-2: entitlements carry no amounts, so every member reads them; the root fields are the
    # partner scope's (entitlements:read API keys), never a user's token.
    **_fields("Query", frozenset(), "entitlements", "auditLog"),
    **_fields("Organization", ANY, "entitlements"),
    **_fields("Entitlements", ANY, "status", "products"),
    **_fields("ProductEntitlements", ANY, "product", "plan", "planName", "features", "limits"),
    **_fields("FeatureEntitlement", ANY, "feature", "enabled"),
    **_fields(
        "LimitEntitlement",
        ANY,
        *("metric", "limit", "used", "remaining", "resetsAt", "allowed", "reason"),
    ),
    # The audit log has amounts: owners and billing admins (ACC-3).
    **_fields("Organization", BILLING, "auditLog"),
    **_fields("AuditLogConnection", BILLING, "edges", "pageInfo"),
    **_fields("AuditEntryEdge", BILLING, "cursor", "node"),
    **_fields(
        "AuditEntry",
        BILLING,
        *("occurredAt", "actor", "clientAddress", "action", "summary", "amountSubject"),
        *("amountBefore", "amountAfter", "details"),
    ),
    **_fields("AuditActor", BILLING, "kind", "id", "label"),
    **_fields("AuditDetail", BILLING, "key", "value"),
    # ACC-6: every organization's log is for a platform key with audit:read, never a user's token.
    **_fields("Query", frozenset(), "platformAuditLog"),
    # Staff actions are for API keys of scope billing:operate, never for a user's token.
    **_fields(
        "Mutation",
        frozenset(),
        *("grantCredit", "extendTrial", "markInvoiceUncollectible", "voidInvoice"),
        "recordOfflinePayment",
    ),
    # ACC-6: portal sessions are made by a platform key with portal:write, never a user's token.
    **_fields("Mutation", frozenset(), "createPortalSession"),
    # DSC-1: the discount in force is money (ACC-3); codes are applied by billing roles (ACC-2);
    # coupons are made by a platform key with coupons:write, never a user's token.
    **_fields("Subscription", BILLING, "discount"),
    **_fields(
        "Discount",
        BILLING,
        *("coupon", "name", "description", "promotionCode", "percentOff", "amountOff"),
        *("duration", "durationPeriods", "periodsLeft", "products", "plans", "appliedAt"),
    ),
    **_fields("Mutation", BILLING, "applyPromotionCode", "removeDiscount"),
    **_fields("Mutation", frozenset(), "createCoupon", "createPromotionCode"),
}


# Types reached only through a mutation's result: the mutation's own row decides who sees them.
RESULT_TYPES: dict[str, str] = {
    "PlanChangeApplied": "changePlan",
    "PlanChangeScheduled": "changePlan",
    "PaymentActionRequired": "changePlan",
    "AccountChangeRequested": "requestAccountChange",
    "AccountChangeRequest": "requestAccountChange",
    "UserError": "changePlan",
    "SubscriptionCancelled": "cancelSubscription",
    "SubscriptionReactivated": "reactivateSubscription",
    "PaymentMethodReplaced": "replacePaymentMethod",
    "TestClock": "advanceTestClock",
    "InvoicePaid": "payInvoice",
    "SetupIntent": "createSetupIntent",
    "TestCard": "createSetupIntent",
    "InvoiceRefunded": "refundInvoice",
    "UsageRecorded": "recordUsage",
    "ProductPreferences": "setUpgradePreference",
    "BillingInfoUpdated": "updateBillingInfo",
    "OrganizationCurrencySet": "setOrganizationCurrency",
    # PRV-1: what provisioning answers (the organizations list's types too: platform keys only).
    "OrganizationProvisioned": "createOrganization",
    "ProvisionedOrganization": "createOrganization",
    "ProvisionedMember": "createOrganization",
    "ProvisionedWorkspace": "createOrganization",
    "HeldPlanInfo": "createOrganization",
    "OrganizationConnection": "createOrganization",
    "OrganizationPageInfo": "createOrganization",
    # ACC-6: the platform audit log's types are reached by platform keys only, as those above.
    "PlatformAuditLogConnection": "createOrganization",
    "PlatformAuditEntryEdge": "createOrganization",
    "AuditedOrganization": "createOrganization",
    "CreditGranted": "grantCredit",
    "TrialExtended": "extendTrial",
    "InvoiceClosed": "voidInvoice",
    "OfflinePaymentRecorded": "recordOfflinePayment",
    "WebhookEndpointRegistered": "registerWebhookEndpoint",
    "WebhookEndpoint": "registerWebhookEndpoint",
    "WebhookSecretRotated": "rotateWebhookSecret",
    "WebhookEndpointDisabled": "disableWebhookEndpoint",
    "WebhookDeliveryResent": "resendWebhookDelivery",
    "WebhookDelivery": "resendWebhookDelivery",
    "PortalSessionCreated": "createPortalSession",
    "DiscountApplied": "applyPromotionCode",
    "DiscountRemoved": "removeDiscount",
    "CouponCreated": "createCoupon",
    "Coupon": "createCoupon",
    "PromotionCodeCreated": "createPromotionCode",
    "PromotionCode": "createPromotionCode",
}
for _type, _mutation in RESULT_TYPES.items():
    for _name in schema._schema.type_map[_type].fields:  # type: ignore[attr-defined]
        PERMISSIONS[(_type, _name)] = PERMISSIONS[("Mutation", _mutation)]

# Harmless arguments: each mutation is refused or answers a UserError, changing nothing.
MUTATION_CALLS = {
    "subscribe": '(input: {product: "nope"}, confirmAmountDue: 0)',
    "changePlan": '(input: {product: "nope"}, confirmAmountDue: 0)',
    "cancelSubscription": '(reason: "  ")',
    "reactivateSubscription": "",
    "requestAccountChange": '(message: "")',
    "replacePaymentMethod": '(paymentMethodId: "pm_nope")',
    "advanceTestClock": "(days: -1)",
    "payInvoice": '(invoiceId: "nope")',
    "completeTestPaymentAction": '(invoiceId: "nope")',
    "createSetupIntent": "",
    "refundInvoice": '(invoiceId: "nope")',
    "recordUsage": "(events: [])",
    "setUpgradePreference": '(product: "nope", preference: NONE)',
    "setAutoDowngrade": '(product: "nope", enabled: true)',
    "updateBillingInfo": '(input: {companyName: "", billingEmail: "x"})',
    "setOrganizationCurrency": '(currency: "XXX")',
    "setProvisionedOrganizationCurrency": '(organizationExternalId: "x", currency: "XXX")',
    "createOrganization": '(input: {externalId: "x", name: "X", slug: "x", owner: {email: "x",'
    ' name: "X"}, billingInfo: {companyName: "X", billingEmail: "x"}})',
    "addMember": '(organizationExternalId: "x", person: {email: "x", name: "X"}, role: MEMBER)',
    "changeMemberRole": '(organizationExternalId: "x", email: "x", role: MEMBER)',
    "transferOwnership": '(organizationExternalId: "x", email: "x")',
    "removeMember": '(organizationExternalId: "x", email: "x")',
    "createWorkspace": '(organizationExternalId: "x", slug: "x", name: "X")',
    "archiveWorkspace": '(organizationExternalId: "x", slug: "x")',
    "startTrial": '(organizationExternalId: "x", input: {product: "x", plan: "x"})',
    "grantCredit": '(amount: -1, reason: "")',
    "extendTrial": "(days: 0)",
    "markInvoiceUncollectible": '(invoiceId: "nope", reason: "")',
    "voidInvoice": '(invoiceId: "nope", reason: "")',
    "recordOfflinePayment": '(invoiceId: "nope", amount: 0, reference: "")',
    "registerWebhookEndpoint": '(input: {url: "ftp://x", events: []})',
    "rotateWebhookSecret": '(id: "nope")',
    "disableWebhookEndpoint": '(id: "nope")',
    "resendWebhookDelivery": '(id: "nope")',
    "createPortalSession": '(organizationExternalId: "x", userEmail: "x", returnUrl: "x")',
    "applyPromotionCode": '(code: "NO-SUCH-CODE")',
    "removeDiscount": "",
    "createCoupon": '(input: {code: "x", name: "X", duration: ONCE, percentOff: 10})',
    "createPromotionCode": '(input: {code: "X", coupon: "x"})',
}

# How a query reaches an object of each type, from the root (as Acme's users).
ROUTES: dict[str, list[str]] = {
    "Query": [],
    "Viewer": ["viewer"],
    "User": ["viewer", "user"],
    "Membership": ["viewer", "memberships"],
    "Organization": ["organization"],
    "Member": ["organization", "members"],
    "Workspace": ["organization", "workspaces"],
    "Subscription": ["organization", "subscription"],
    "SubscriptionItem": ["organization", "subscription", "items"],
    "FlexibleOverage": ["organization", "subscription", "items", "flexibleOverages"],
    "Catalog": ["catalog"],
    "Product": ["catalog", "products"],
    "Plan": ["catalog", "products", "plans"],
    "Limit": ["catalog", "products", "plans", "limits"],
    "AddOn": ["catalog", "products", "addOns"],
    "ContactLimitStep": ["catalog", "products", "contactLimitLadder"],
    "Bundle": ["catalog", "products", "bundles"],
    "ProductPolicy": ["catalog", "products", "policy"],
    "OnDemandPricing": ["catalog", "products", "policy", "onDemand"],
    "Price": ["catalog", "products", "plans", "prices"],
    "Money": ["catalog", "products", "plans", "prices", "amount"],
    "PlanChangePreview": ["previewPlanChange"],
    "PreviewLine": ["previewPlanChange", "lines"],
    "Blocker": ["previewPlanChange", "blockers"],
    "TaxSummary": ["previewPlanChange", "tax"],
    "TaxRateTotal": ["organization", "invoices", "edges", "node", "tax", "rates"],
    "TaxRate": ["organization", "invoices", "edges", "node", "lines", "taxRate"],
    "FeatureSetting": ["organization", "featureSettings"],
    "ScheduledChange": ["organization", "subscription", "scheduledChange"],
    "InvoiceConnection": ["organization", "invoices"],
    "CreditNoteConnection": ["organization", "creditNotes"],
    "CreditNoteEdge": ["organization", "creditNotes", "edges"],
    "CreditNote": ["organization", "creditNotes", "edges", "node"],
    "CreditNoteLine": ["organization", "creditNotes", "edges", "node", "lines"],
    "CreditNotePreview": ["previewPlanChange", "creditNote"],
    "InvoiceEdge": ["organization", "invoices", "edges"],
    "PageInfo": ["organization", "invoices", "pageInfo"],
    "Invoice": ["organization", "invoices", "edges", "node"],
    "InvoiceLine": ["organization", "invoices", "edges", "node", "lines"],
    "Dispute": ["organization", "invoices", "edges", "node", "disputes"],
    "PaymentMethod": ["organization", "paymentMethods"],
    "Notification": ["organization", "notifications"],
    "BillingInfo": ["organization", "billingInfo"],
    "UsageMeter": ["organization", "usage"],
    "WorkspaceUsage": ["organization", "usageByWorkspace"],
    "UsageMonth": ["organization", "usageHistory"],
    "UsageCount": ["organization", "usageHistory", "counts"],
    "UsageGate": ["usageGate"],
    "InvoiceParty": ["organization", "invoices", "edges", "node", "issuer"],
    "UpcomingInvoice": ["organization", "subscription", "upcomingInvoice"],
    "Discount": ["organization", "subscription", "discount"],
    "Entitlements": ["organization", "entitlements"],
    "ProductEntitlements": ["organization", "entitlements", "products"],
    "FeatureEntitlement": ["organization", "entitlements", "products", "features"],
    "LimitEntitlement": ["organization", "entitlements", "products", "limits"],
    "AuditLogConnection": ["organization", "auditLog"],
    "AuditEntryEdge": ["organization", "auditLog", "edges"],
    "AuditEntry": ["organization", "auditLog", "edges", "node"],
    "AuditActor": ["organization", "auditLog", "edges", "node", "actor"],
    "AuditDetail": ["organization", "auditLog", "edges", "node", "details"],
}
STEP_ARGUMENTS = {
    "previewPlanChange": '(input: {product: "email", plan: "email-1500"})',
    "usageGate": '(product: "email", metric: "emails")',
}
ARGUMENTS = {
    ("Catalog", "product"): '(code: "messaging")',
    ("Organization", "invoice"): '(id: "00000000-0000-0000-0000-000000000000")',
    ("Query", "webhookDeliveries"): '(endpointId: "nope")',
    **{("Query", step): args for step, args in STEP_ARGUMENTS.items()},
}
CALLERS: list[Role | None] = [Role.OWNER, Role.BILLING_ADMIN, Role.ADMIN, Role.MEMBER, None]
EMAILS = {
    Role.OWNER: "owner@acme.test",
    Role.BILLING_ADMIN: "billing@acme.test",
    Role.ADMIN: "admin@acme.test",
    Role.MEMBER: "member@acme.test",
}


def _schema_fields() -> set[tuple[str, str]]:
    graphql_schema = schema._schema
    return {
        (name, field)
        for name, graphql_type in graphql_schema.type_map.items()
        if isinstance(graphql_type, GraphQLObjectType) and not name.startswith("__")
        for field in graphql_type.fields
    }


def _query_for(type_name: str, field: str) -> str:
    graphql_type = schema._schema.type_map[type_name]
    assert isinstance(graphql_type, GraphQLObjectType)
    target = get_named_type(graphql_type.fields[field].type)
    selection = field + ARGUMENTS.get((type_name, field), "")
    if isinstance(target, GraphQLObjectType):
        selection += " { __typename }"
    route = ROUTES[type_name]
    opening = "".join(f"{step}{STEP_ARGUMENTS.get(step, '')} {{ __typename " for step in route)
    return "{ " + opening + selection + " }" * len(route) + " }"


def _refusal(body: dict[str, Any], path: list[str]) -> str | None:
    """The code of a refusal raised on the field's path (or on one of its ancestors)."""
    for error in body.get("errors", []):
        error_path = [p for p in error.get("path") or [] if isinstance(p, str)]
        code = error.get("extensions", {}).get("code")
        if (
            error_path
            and path[: len(error_path)] == error_path
            and code in ("FORBIDDEN", "UNAUTHENTICATED")
        ):
            return str(code)
    return None


def _walked() -> list[tuple[str, str, list[str], str]]:
    """Every (type, field) a request can reach, with its path and the document that reaches it."""
    walked = []
    for (type_name, field), _ in sorted(PERMISSIONS.items()):
        if type_name in RESULT_TYPES:
            continue
        if type_name == "Mutation":
            document = f"mutation {{ {field}{MUTATION_CALLS[field]} {{ __typename }} }}"
            walked.append((type_name, field, [field], document))
        else:
            walked.append(
                (type_name, field, [*ROUTES[type_name], field], _query_for(type_name, field))
            )
    return walked


def test_the_table_lists_every_field_of_the_schema() -> None:
    fields = _schema_fields()
    assert sorted(fields - PERMISSIONS.keys()) == [], "fields with no row in the permission table"
    assert sorted(PERMISSIONS.keys() - fields) == [], "rows for fields the schema does not have"
    routed = set(ROUTES) | set(RESULT_TYPES) | {"Mutation"}
    assert routed == {type_name for type_name, _ in fields}


@pytest.mark.parametrize("caller", CALLERS, ids=lambda c: c.value if c else "anonymous")
async def test_walk_the_permission_table(gql: GraphQLClient, caller: Role | None) -> None:
    # rule ACC-2, ACC-3: a refused field is null with FORBIDDEN; the rest of the answer stays.
    mismatches = []
    for type_name, field, path, document in _walked():
        allowed = PERMISSIONS[(type_name, field)]
        body = await gql(document, as_user=EMAILS[caller] if caller else None)
        refusal = _refusal(body, path)
        expected: str | None
        if caller in allowed:
            expected = None
            if body.get("errors") and type_name != "Mutation":
                mismatches.append((type_name, field, f"unexpected errors {body['errors']}"))
                continue
        elif caller is None:
            expected = "UNAUTHENTICATED"
        else:
            expected = "FORBIDDEN"
            if type_name != "Mutation" and body.get("data") is None:
                mismatches.append((type_name, field, "refusal did not keep the rest of the answer"))
        if refusal != expected:
            mismatches.append((type_name, field, f"expected {expected}, got {refusal}"))
    assert mismatches == []
