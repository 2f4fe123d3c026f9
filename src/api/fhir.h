// FHIR R4 JSON views of the records module's state, for hospital systems
// (docs/api.md lists the mappings). Pure functions of the stored JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace cc::api::fhir {

// A record pointer (records/<rid> query, "id" set) as a DocumentReference.
nlohmann::json DocumentReference(const nlohmann::json& record);
// A consent (consents/<cid> query, "id" set) as a Consent.
nlohmann::json Consent(const nlohmann::json& consent);
// An access entry of `patient`'s log as an AuditEvent.
nlohmann::json AuditEvent(const nlohmann::json& entry, const std::string& patient);
// A wearable's reading as an Observation (vital-signs profile for heart rate,
// SpO2 and skin temperature; category "activity" for steps and sleep). `id`
// names it: "<device>-<seq>-<index>".
nlohmann::json Observation(const std::string& id, const std::string& patient, const std::string& device,
                           uint64_t t_ms, std::string_view metric, double value);
// A searchset Bundle of `resources`.
nlohmann::json Bundle(std::vector<nlohmann::json> resources);

// "2026-11-25T17:18:14.123Z" for milliseconds since the epoch (UTC).
std::string Instant(uint64_t ms);

}  // namespace cc::api::fhir
