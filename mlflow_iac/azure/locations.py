"""Azure public-cloud regions (`az account list-locations --query "[].name"`, physical regions).

The stack refuses an `azure-native:location` outside this list before any resource exists: a
typo would otherwise surface minutes into `pulumi up` as an ARM error. A region opened after
this list was written is added here (one line).
"""

from __future__ import annotations

LOCATIONS = frozenset(
    {
        # Americas
        "eastus", "eastus2", "centralus", "northcentralus", "southcentralus", "westcentralus",
        "westus", "westus2", "westus3", "canadacentral", "canadaeast", "brazilsouth",
        "brazilsoutheast", "mexicocentral", "chilecentral",
        # Europe
        "northeurope", "westeurope", "uksouth", "ukwest", "francecentral", "francesouth",
        "germanywestcentral", "germanynorth", "switzerlandnorth", "switzerlandwest",
        "norwayeast", "norwaywest", "swedencentral", "polandcentral", "italynorth",
        "spaincentral", "austriaeast", "belgiumcentral",
        # Asia Pacific, Middle East, Africa
        "eastasia", "southeastasia", "japaneast", "japanwest", "koreacentral", "koreasouth",
        "centralindia", "southindia", "westindia", "jioindiacentral", "jioindiawest",
        "australiaeast", "australiasoutheast", "australiacentral", "australiacentral2",
        "newzealandnorth", "indonesiacentral", "malaysiawest", "uaenorth", "uaecentral",
        "qatarcentral", "israelcentral", "southafricanorth", "southafricawest",
    }
)  # fmt: skip
"""Region names as ARM spells them: lowercase, no spaces."""
