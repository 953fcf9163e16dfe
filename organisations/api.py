"""The organisations API: who the caller is and which organisations they may act for."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from organisations import selectors


class OrganisationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    ods_code = serializers.CharField(allow_null=True)
    region = serializers.CharField()


class MembershipOutput(serializers.Serializer):
    role = serializers.CharField()
    role_label = serializers.CharField(source="get_role_display")
    organisation = OrganisationOutput()


class PatientOutput(serializers.Serializer):
    nhs_number = serializers.CharField()
    commissioner = OrganisationOutput()


class MeOutput(serializers.Serializer):
    email = serializers.EmailField()
    full_name = serializers.CharField()
    memberships = MembershipOutput(many=True)
    patient = PatientOutput(allow_null=True)


class MyOrganisationsView(APIView):
    """The caller's memberships: each organisation they may act for, and in which role."""

    @extend_schema(operation_id="organisations_me", responses=MeOutput, tags=["organisations"])
    def get(self, request: Request) -> Response:
        user = request.user
        data = {
            "email": user.email,
            "full_name": user.full_name,
            "memberships": selectors.memberships_for(user=user),
            "patient": selectors.patient_profile_of(user=user),
        }
        return Response(MeOutput(data).data)
