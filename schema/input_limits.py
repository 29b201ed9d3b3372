"""The maximum length of every string a caller sends, in one table: shown in each argument's
description (so in schema.graphql and introspection) and enforced before any resolver runs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    default_field_resolver,
    get_named_type,
)

from billing.errors import BillingError

_ID = 64  # our ids are UUIDs (36 characters); room for the processor's own
_CODE = 64  # catalog codes, workspace slugs (as stored)

# "Type.field(argument)" for arguments, "InputType.field" for input fields. Checked complete
# against the schema by tests/test_input_limits.py: a new string argument needs its line here.
_EXTERNAL_ID = 200  # an organization's or a user's id in the SaaS's own system
MAX_LENGTHS: Mapping[str, int] = {
    "Query.organization(id)": _ID,
    "Query.usageGate(product)": _CODE,
    "Query.usageGate(metric)": 32,
    "Organization.invoices(after)": 100,
    "Organization.creditNotes(after)": 100,
    "Organization.usage(month)": 16,
    "Organization.usage(workspace)": _CODE,
    "Organization.usageByWorkspace(month)": 16,
    "Organization.invoice(id)": _ID,
    "Catalog.product(code)": _CODE,
    "Query.catalog(currency)": 3,  # CUR-1: an ISO 4217 code
    "Mutation.setOrganizationCurrency(currency)": 3,
    "Mutation.setProvisionedOrganizationCurrency(organizationExternalId)": _EXTERNAL_ID,
    "Mutation.setProvisionedOrganizationCurrency(currency)": 3,
    "Mutation.cancelSubscription(reason)": 2000,
    "Mutation.requestAccountChange(message)": 5000,
    "Mutation.setUpgradePreference(product)": _CODE,
    "Mutation.setAutoDowngrade(product)": _CODE,
    "Mutation.refundInvoice(invoiceId)": _ID,
    "Mutation.refundInvoice(reason)": 2000,
    "Mutation.replacePaymentMethod(paymentMethodId)": 200,
    "Mutation.payInvoice(invoiceId)": _ID,
    "Mutation.completeTestPaymentAction(invoiceId)": _ID,
    "Mutation.subscribe(promotionCode)": _CODE,
    "Mutation.changePlan(promotionCode)": _CODE,
    "Mutation.applyPromotionCode(code)": _CODE,
    "Query.previewPlanChange(promotionCode)": _CODE,
    "PlanChangeInput.product": _CODE,
    "PlanChangeInput.plan": _CODE,
    "PlanChangeInput.bundle": _CODE,
    "PlanChangeInput.addOns": _CODE,
    "UsageEventInput.id": 100,
    "UsageEventInput.product": _CODE,
    "UsageEventInput.metric": 32,
    "UsageEventInput.contactId": 100,
    "UsageEventInput.workspace": _CODE,
    "BillingInfoInput.companyName": 200,
    "BillingInfoInput.billingEmail": 254,
    "BillingInfoInput.addressLine1": 200,
    "BillingInfoInput.addressLine2": 200,
    "BillingInfoInput.city": 100,
    "BillingInfoInput.postalCode": 20,
    "BillingInfoInput.country": 64,  # a name gets the ISO-code advice of its own check
    "BillingInfoInput.region": 3,
    "BillingInfoInput.taxId": 50,
    "BillingInfoInput.contactName": 200,
    # Provisioning (README "Provisioning"): as long as the columns that keep them.
    "CreateOrganizationInput.name": 200,
    "CreateOrganizationInput.slug": 64,
    "CreateOrganizationInput.externalId": _EXTERNAL_ID,
    "CreateOrganizationInput.currency": 3,
    "PersonInput.email": 254,
    "PersonInput.name": 200,
    "PersonInput.externalId": _EXTERNAL_ID,
    "StartTrialInput.product": _CODE,
    "StartTrialInput.plan": _CODE,
    "StartTrialInput.bundle": _CODE,
    "Query.organizations(after)": 100,
    "CreateCouponInput.code": _CODE,
    "CreateCouponInput.name": 200,
    "CreateCouponInput.products": _CODE,
    "CreateCouponInput.plans": _CODE,
    "CurrencyAmountInput.currency": 3,
    "CreatePromotionCodeInput.code": _CODE,
    "CreatePromotionCodeInput.coupon": _CODE,
    "Mutation.addMember(organizationExternalId)": _EXTERNAL_ID,
    "Mutation.changeMemberRole(organizationExternalId)": _EXTERNAL_ID,
    "Mutation.changeMemberRole(email)": 254,
    "Mutation.transferOwnership(organizationExternalId)": _EXTERNAL_ID,
    "Mutation.transferOwnership(email)": 254,
    "Mutation.removeMember(organizationExternalId)": _EXTERNAL_ID,
    "Mutation.removeMember(email)": 254,
    "Mutation.createWorkspace(organizationExternalId)": _EXTERNAL_ID,
    "Mutation.createWorkspace(slug)": 64,
    "Mutation.createWorkspace(name)": 200,
    "Mutation.archiveWorkspace(organizationExternalId)": _EXTERNAL_ID,
    "Mutation.archiveWorkspace(slug)": 64,
    "Mutation.startTrial(organizationExternalId)": _EXTERNAL_ID,
    # Staff actions and the audit log (README "Staff actions").
    "Mutation.grantCredit(reason)": 2000,
    "Mutation.markInvoiceUncollectible(invoiceId)": _ID,
    "Mutation.markInvoiceUncollectible(reason)": 2000,
    "Mutation.voidInvoice(invoiceId)": _ID,
    "Mutation.voidInvoice(reason)": 2000,
    "Mutation.recordOfflinePayment(invoiceId)": _ID,
    "Mutation.recordOfflinePayment(reference)": 200,
    "Mutation.recordOfflinePayment(method)": 32,
    "Organization.auditLog(after)": 100,
    "Query.auditLog(after)": 100,
    "Query.platformAuditLog(after)": 100,
    "Query.platformAuditLog(organizationExternalId)": _EXTERNAL_ID,
    # Outbound webhooks (README "Webhooks to your backend").
    "WebhookEndpointInput.url": 2000,
    "WebhookEndpointInput.description": 200,
    "WebhookEndpointInput.events": 64,
    "Mutation.rotateWebhookSecret(id)": _ID,
    "Mutation.disableWebhookEndpoint(id)": _ID,
    "Mutation.resendWebhookDelivery(id)": _ID,
    "Query.webhookDeliveries(endpointId)": _ID,
    # Portal sessions (README "The billing page's sign-in").
    "Mutation.createPortalSession(organizationExternalId)": _EXTERNAL_ID,
    "Mutation.createPortalSession(userEmail)": 254,
    "Mutation.createPortalSession(returnUrl)": 2000,
}

_LIMIT = "max_length"  # the key of the limit in graphql-core's `extensions` of each argument


def is_text(type_: GraphQLInputType) -> bool:
    named = get_named_type(type_)
    return isinstance(named, GraphQLScalarType) and named.name in ("String", "ID")


def text_inputs(schema: GraphQLSchema) -> dict[str, GraphQLArgument | GraphQLInputField]:
    """Every argument and input field a caller fills with text, by its key in MAX_LENGTHS."""
    found: dict[str, GraphQLArgument | GraphQLInputField] = {}
    for name, type_ in schema.type_map.items():
        if name.startswith("__"):
            continue
        if isinstance(type_, GraphQLObjectType):
            for field_name, field in type_.fields.items():
                for arg_name, arg in field.args.items():
                    if is_text(arg.type):
                        found[f"{name}.{field_name}({arg_name})"] = arg
        elif isinstance(type_, GraphQLInputObjectType):
            for field_name, input_field in type_.fields.items():
                if is_text(input_field.type):
                    found[f"{name}.{field_name}"] = input_field
    return found


def document_limits(schema: GraphQLSchema) -> None:
    """Puts each maximum on its argument: in the description and where the check finds it."""
    for key, target in text_inputs(schema).items():
        limit = MAX_LENGTHS.get(key)
        if limit is None:
            continue
        note = f"At most {limit:,} characters."
        target.description = f"{target.description} {note}" if target.description else note
        target.extensions = {**(target.extensions or {}), _LIMIT: limit}


def check_text(name: str, value: str, limit: int | None) -> None:
    if limit is not None and len(value) > limit:
        raise BillingError(
            f"`{name}` is too long: at most {limit:,} characters, got {len(value):,}.", field=name
        )
    if "\x00" in value:
        raise BillingError(
            f"`{name}` contains a NUL character (\\u0000), which text cannot hold; remove it.",
            field=name,
        )


def _check_value(name: str, type_: GraphQLInputType, value: Any, limit: int | None) -> None:
    if value is None:
        return
    if isinstance(type_, GraphQLNonNull):
        _check_value(name, type_.of_type, value, limit)
    elif isinstance(type_, GraphQLList):
        for index, item in enumerate(value if isinstance(value, list) else [value]):
            _check_value(f"{name}[{index}]", type_.of_type, item, limit)
    elif isinstance(type_, GraphQLInputObjectType):
        for field_name, field in type_.fields.items():
            if field_name in value:
                field_limit = (field.extensions or {}).get(_LIMIT)
                _check_value(f"{name}.{field_name}", field.type, value[field_name], field_limit)
    elif isinstance(value, str):
        check_text(name, value, limit)


def guard_arguments(schema: GraphQLSchema) -> None:
    """Refuses an over-long string, or one with a NUL, in any argument (BAD_USER_INPUT naming
    the argument and its maximum) before the field's resolver sees it.

    Only fields that take arguments are wrapped, once, when the schema is built: a schema
    extension's `resolve` hook would run for every field of every answer (about 340 on the
    billing page), the leaves too. Introspection's own fields (`__type(name:)`) are not
    wrapped: they are not among the schema's types' fields."""
    for name, type_ in schema.type_map.items():
        if name.startswith("__") or not isinstance(type_, GraphQLObjectType):
            continue
        for field in type_.fields.values():
            if field.args:
                field.resolve = _checked(field.resolve, field.args)


def _checked(
    resolve: Callable[..., Any] | None, definitions: Mapping[str, GraphQLArgument]
) -> Callable[..., Any]:
    limits = {
        name: (argument.type, (argument.extensions or {}).get(_LIMIT))
        for name, argument in definitions.items()
    }
    run = resolve or default_field_resolver

    def checked(root: Any, info: GraphQLResolveInfo[Any], **kwargs: Any) -> Any:
        for name, value in kwargs.items():
            known = limits.get(name)
            if known is not None:
                _check_value(name, known[0], value, known[1])
        return run(root, info, **kwargs)

    return checked
