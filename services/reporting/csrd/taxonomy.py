"""The fixed vocabulary of the EFRAG ESRS Set 1 XBRL taxonomy (2023-12-22) the export uses.

Names are spelled as in `esrs_cor.xsd`; datapoint ids are EFRAG's (`esrs:DatapointId` in the
taxonomy's reference linkbase `ref_esrs.xml`, "Main" references of E1-5 / E1-6).
"""

from __future__ import annotations

NAMESPACE = "https://xbrl.efrag.org/taxonomy/esrs/2023-12-22"
ENTRY_POINT = "https://xbrl.efrag.org/taxonomy/esrs/2023-12-22/esrs_all.xsd"

SCOPE1 = "GrossScope1GreenhouseGasEmissions"
SCOPE2_LOCATION = "GrossLocationBasedScope2GreenhouseGasEmissions"
SCOPE2_MARKET = "GrossMarketBasedScope2GreenhouseGasEmissions"
SCOPE3 = "GrossScope3GreenhouseGasEmissions"
TOTAL_LOCATION = "LocationBasedGreenhouseGasEmissions"
TOTAL_MARKET = "MarketBasedGreenhouseGasEmissions"
ETS_SHARE = "PercentageOfScope1GreenhouseGasEmissionsFromRegulatedEmissionTradingSchemes"
BIOGENIC = (
    "BiogenicEmissionsOfCO2FromCombustionOrBiodegradationOfBiomassNotIncludedInScope1GHGEmissions"
)
INTENSITY_LOCATION = "GHGEmissionsIntensityLocationbasedTotalGHGEmissionsPerNetRevenue"
INTENSITY_MARKET = "GHGEmissionsIntensityMarketbasedTotalGHGEmissionsPerNetRevenue"
NET_REVENUE = "NetRevenueUsedToCalculateGHGIntensity"

ENERGY_TOTAL = "EnergyConsumptionRelatedToOwnOperations"
ENERGY_FOSSIL = "EnergyConsumptionFromFossilSources"
ENERGY_NUCLEAR = "EnergyConsumptionFromNuclearSources"
ENERGY_RENEWABLE = "EnergyConsumptionFromRenewableSources"
FOSSIL_DETAIL = (
    "FuelConsumptionFromCoalAndCoalProducts",
    "FuelConsumptionFromCrudeOilAndPetroleumProducts",
    "FuelConsumptionFromNaturalGas",
    "FuelConsumptionFromOtherFossilSources",
    "ConsumptionOfPurchasedOrAcquiredElectricityHeatSteamOrCoolingFromFossilSources",
)
RENEWABLE_DETAIL = (
    "FuelConsumptionFromRenewableSources",
    "ConsumptionOfPurchasedOrAcquiredElectricityHeatSteamAndCoolingFromRenewableSources",
    "ConsumptionOfSelfgeneratedNonfuelRenewableEnergy",
)
SHARE_FOSSIL = "PercentageOfFossilSourcesInTotalEnergyConsumption"
SHARE_NUCLEAR = "PercentageOfEnergyConsumptionFromNuclearSourcesInTotalEnergyConsumption"
SHARE_RENEWABLE = "PercentageOfRenewableSourcesInTotalEnergyConsumption"

SCOPE3_AXIS = "Scope3GHGEmissionsCategoryGHGProtocolAxis"
BASELINE_AXIS = "CurrentlyStatedBaselineMilestonesOrTargetYearsAxis"
BASELINE_MEMBER = "BaselineYearMember"

# Scope 3 line key (see compute.E1Ghg) -> member of SCOPE3_AXIS.
SCOPE3_MEMBERS = {
    "1": "Category1PurchasedGoodsAndServicesMember",
    "1.1": "Category11CloudComputingAndDataCentreServicesMember",
    "2": "Category2CapitalGoodsMember",
    "3": "Category3FuelAndEnergyrelatedActivitiesMember",
    "4": "Category4UpstreamTransportationAndDistributionMember",
    "5": "Category5WasteGeneratedInOperationsMember",
    "6": "Category6BusinessTravelMember",
    "7": "Category7EmployeeCommutingMember",
    "8": "Category8UpstreamLeasedAssetsMember",
    "9": "Category9DownstreamTransportationAndDistributionMember",
    "10": "Category10ProcessingOfSoldProductsMember",
    "11": "Category11UseOfSoldProductsMember",
    "12": "Category12EndoflifeTreatmentOfSoldProductsMember",
    "13": "Category13DownstreamLeasedAssetsMember",
    "14": "Category14FranchisesMember",
    "15": "Category15InvestmentsMember",
}

SCOPE3_LABELS = {
    "1": "Purchased goods and services",
    "1.1": "of which cloud computing and data centre services",
    "2": "Capital goods",
    "3": "Fuel- and energy-related activities",
    "4": "Upstream transportation and distribution",
    "5": "Waste generated in operations",
    "6": "Business travel",
    "7": "Employee commuting",
    "8": "Upstream leased assets",
    "9": "Downstream transportation and distribution",
    "10": "Processing of sold products",
    "11": "Use of sold products",
    "12": "End-of-life treatment of sold products",
    "13": "Downstream leased assets",
    "14": "Franchises",
    "15": "Investments",
}

DATAPOINT_IDS = {
    SCOPE1: "E1-6_01",
    SCOPE2_LOCATION: "E1-6_09",
    SCOPE2_MARKET: "E1-6_10",
    SCOPE3: "E1-6_11",
    TOTAL_LOCATION: "E1-6_12",
    TOTAL_MARKET: "E1-6_13",
    ETS_SHARE: "E1-6_08",
    BIOGENIC: "E1-6_17",
    INTENSITY_LOCATION: "E1-6_30",
    INTENSITY_MARKET: "E1-6_31",
    NET_REVENUE: "E1-6_34",
    ENERGY_TOTAL: "E1-5_01",
    ENERGY_FOSSIL: "E1-5_02",
    ENERGY_NUCLEAR: "E1-5_03",
    SHARE_NUCLEAR: "E1-5_04",
    ENERGY_RENEWABLE: "E1-5_06",
    FOSSIL_DETAIL[0]: "E1-5_10",
    FOSSIL_DETAIL[1]: "E1-5_11",
    FOSSIL_DETAIL[2]: "E1-5_12",
    FOSSIL_DETAIL[3]: "E1-5_13",
    FOSSIL_DETAIL[4]: "E1-5_14",
    RENEWABLE_DETAIL[0]: "E1-5_06",
    RENEWABLE_DETAIL[1]: "E1-5_07",
    RENEWABLE_DETAIL[2]: "E1-5_06",
    SHARE_FOSSIL: "E1-5_15",
    SHARE_RENEWABLE: "E1-5_09",
}
