#include "api/fhir.h"

#include <cstdio>
#include <ctime>

#include "apps/wearables/rules.h"

namespace cc::api::fhir {
namespace {

constexpr const char* kActReason = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
constexpr const char* kCategorySystem = "urn:carechain:record-category";

// The consent purposes as FHIR v3 PurposeOfUse codes.
nlohmann::json Purpose(const std::string& p) {
  const char* code = p == "treatment"       ? "TREAT"
                     : p == "research"      ? "HRESCH"
                     : p == "payment"       ? "HPAYMT"
                     : p == "public_health" ? "PUBHLTH"
                     : p == "emergency"     ? "ETREAT"
                     : p == "patient_request" ? "PATRQT"
                                            : "HOPERAT";
  return {{"system", kActReason}, {"code", code}};
}

nlohmann::json Ref(const std::string& type, const std::string& id) { return {{"reference", type + "/" + id}}; }

uint64_t U(const nlohmann::json& j, const char* k) {
  auto it = j.find(k);
  return it != j.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}

std::string S(const nlohmann::json& j, const char* k) {
  auto it = j.find(k);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

std::string Instant(uint64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<unsigned>(ms % 1000));
  return buf;
}

nlohmann::json DocumentReference(const nlohmann::json& r) {
  const std::string id = S(r, "id");
  const bool erased = S(r, "status") == "erased";
  nlohmann::json attachment = {{"url", "/v1/records/" + id + "/content"},
                               {"title", S(r, "resource_type") + " (" + S(r, "category") + ")"}};
  nlohmann::json doc = {
      {"resourceType", "DocumentReference"},
      {"id", id},
      // An erased record's pointer stays on chain; its content is gone.
      {"status", erased ? "superseded" : "current"},
      {"type", {{"coding", {{{"system", "http://hl7.org/fhir/resource-types"}, {"code", S(r, "resource_type")}}}}}},
      {"category", {{{"coding", {{{"system", kCategorySystem}, {"code", S(r, "category")}}}}}}},
      {"subject", Ref("Patient", S(r, "patient"))},
      {"date", Instant(U(r, "published_at"))},
      {"custodian", Ref("Organization", S(r, "custodian"))},
      {"content", {{{"attachment", attachment}}}},
      {"extension",
       {{{"url", "urn:carechain:salted-content-hash"}, {"valueString", S(r, "content_hash")}}}}};
  if (erased) {
    doc["meta"] = {{"tag", {{{"system", "urn:carechain:record-status"}, {"code", "erased"}}}}};
    doc["description"] = "Erased at the patient's request on " + Instant(U(r, "erased_at"));
  }
  return doc;
}

nlohmann::json Consent(const nlohmann::json& c) {
  const bool emergency = c.value("emergency", false);
  nlohmann::json actor_ref = c.contains("grantee_org") ? Ref("Organization", S(c, "grantee_org"))
                                                       : Ref("Practitioner", S(c, "grantee"));
  nlohmann::json provision = {
      {"type", "permit"},
      {"period", {{"start", Instant(U(c, "from"))}, {"end", Instant(U(c, "until"))}}},
      {"actor",
       {{{"role",
          {{"coding",
            {{{"system", "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"}, {"code", "IRCP"}}}}}},
         {"reference", actor_ref}}}},
      {"purpose", {Purpose(S(c, "purpose"))}}};
  nlohmann::json classes = nlohmann::json::array();
  if (c.contains("categories")) {
    for (const auto& cat : c["categories"]) {
      if (cat != "*") classes.push_back({{"system", kCategorySystem}, {"code", cat}});
    }
  }
  if (!classes.empty()) provision["class"] = classes;
  if (c.contains("records")) {
    nlohmann::json data = nlohmann::json::array();
    for (const auto& rid : c["records"]) data.push_back({{"meaning", "instance"}, {"reference", Ref("DocumentReference", rid)}});
    provision["data"] = data;
  }
  nlohmann::json out = {
      {"resourceType", "Consent"},
      {"id", S(c, "id")},
      {"status", S(c, "status") == "active" ? "active" : "inactive"},
      {"scope",
       {{"coding", {{{"system", "http://terminology.hl7.org/CodeSystem/consentscope"}, {"code", "patient-privacy"}}}}}},
      {"category", {{{"coding", {{{"system", "http://loinc.org"}, {"code", "59284-0"}}}}}}},
      {"patient", Ref("Patient", S(c, "patient"))},
      {"dateTime", Instant(U(c, "granted_at"))},
      {"policyRule", {{"coding", {{{"system", "http://terminology.hl7.org/CodeSystem/v3-ActCode"},
                                   {"code", emergency ? "EMRGONLY" : "OPTIN"}}}}}},
      {"provision", provision}};
  if (emergency) {
    out["meta"] = {{"tag", {{{"system", "urn:carechain:flag"}, {"code", "emergency-access"}}}}};
    out["extension"] = {{{"url", "urn:carechain:emergency-reason"}, {"valueString", S(c, "reason")}}};
  }
  return out;
}

nlohmann::json AuditEvent(const nlohmann::json& e, const std::string& patient) {
  const bool allowed = S(e, "outcome") == "allowed";
  const bool emergency = e.value("emergency", false);
  nlohmann::json purpose = {{"coding", {Purpose(emergency ? "emergency" : S(e, "purpose"))}}};
  nlohmann::json out = {
      {"resourceType", "AuditEvent"},
      {"id", S(e, "id")},
      {"type", {{"system", "http://terminology.hl7.org/CodeSystem/audit-event-type"}, {"code", "rest"},
                {"display", "RESTful Operation"}}},
      {"subtype", {{{"system", "http://hl7.org/fhir/restful-interaction"}, {"code", "read"}, {"display", "read"}}}},
      {"action", "R"},
      {"recorded", Instant(U(e, "at"))},
      // 0 success, 4 minor failure (a refused read).
      {"outcome", allowed ? "0" : "4"},
      {"purposeOfEvent", {purpose}},
      {"agent", {{{"who", Ref("Practitioner", S(e, "reader"))}, {"requestor", true}, {"purposeOfUse", {purpose}}}}},
      {"source", {{"site", S(e, "custodian")}, {"observer", Ref("Organization", S(e, "custodian"))}}},
      {"entity",
       {e.contains("record")
            ? nlohmann::json{{"what", Ref("DocumentReference", S(e, "record"))},
                             {"type", {{"system", "http://terminology.hl7.org/CodeSystem/audit-entity-type"},
                                       {"code", "2"}}}}
            // Other data (wearable readings given to a study): what was given, and to which study.
            : nlohmann::json{{"what", {{"identifier", {{"system", "urn:carechain:study"}, {"value", S(e, "study")}}},
                                       {"display", S(e, "data") + " data for study " + S(e, "study")}}},
                             {"type", {{"system", "http://terminology.hl7.org/CodeSystem/audit-entity-type"},
                                       {"code", "2"}}},
                             {"description", S(e, "what")}},
        {{"what", Ref("Patient", patient)},
         {"type", {{"system", "http://terminology.hl7.org/CodeSystem/audit-entity-type"}, {"code", "1"}}},
         {"role", {{"system", "http://terminology.hl7.org/CodeSystem/object-role"}, {"code", "1"}}}}}}};
  if (!allowed) out["outcomeDesc"] = S(e, "reason");
  if (emergency) out["meta"] = {{"tag", {{{"system", "urn:carechain:flag"}, {"code", "emergency-access"}}}}};
  return out;
}

nlohmann::json Observation(const std::string& id, const std::string& patient, const std::string& device,
                           uint64_t t_ms, std::string_view metric, double value) {
  const wearables::Metric* m = wearables::FindMetric(metric);
  const bool vital = metric == "heart_rate" || metric == "spo2" || metric == "skin_temperature";
  nlohmann::json coding = nlohmann::json::array();
  coding.push_back({{"system", "http://loinc.org"}, {"code", m->loinc}, {"display", m->display}});
  // The vital-signs profile's SpO2 also carries the pulse-oximetry code.
  if (metric == "spo2")
    coding.push_back({{"system", "http://loinc.org"}, {"code", "59408-5"},
                      {"display", "Oxygen saturation in Arterial blood by Pulse oximetry"}});
  nlohmann::json obs = {
      {"resourceType", "Observation"},
      {"id", id},
      {"status", "final"},
      {"category",
       {{{"coding",
          {{{"system", "http://terminology.hl7.org/CodeSystem/observation-category"},
            {"code", vital ? "vital-signs" : "activity"},
            {"display", vital ? "Vital Signs" : "Activity"}}}}}}},
      {"code", {{"coding", coding}, {"text", m->display}}},
      {"subject", Ref("Patient", patient)},
      {"effectiveDateTime", Instant(t_ms)},
      {"device", Ref("Device", device)},
      {"valueQuantity",
       {{"value", value}, {"unit", m->unit}, {"system", "http://unitsofmeasure.org"}, {"code", m->unit}}}};
  if (vital) obs["meta"] = {{"profile", {"http://hl7.org/fhir/StructureDefinition/vitalsigns"}}};
  return obs;
}

nlohmann::json Bundle(std::vector<nlohmann::json> resources) {
  nlohmann::json entries = nlohmann::json::array();
  for (auto& r : resources) entries.push_back({{"resource", std::move(r)}});
  return {{"resourceType", "Bundle"}, {"type", "searchset"}, {"total", entries.size()}, {"entry", std::move(entries)}};
}

}  // namespace cc::api::fhir
