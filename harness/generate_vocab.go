package harness

// The vocabulary generated events draw from. Values marked documented are
// used as the RiskOS documentation gives them; the rest are plausible
// stand-ins.

type workflow struct {
	name     string
	id       string // a workflow keeps its id across evaluations
	versions []string
}

var workflows = [...]workflow{
	{"consumer_onboarding", "5937a624-f298-452c-9169-ceeae9e66b74", []string{"1.0.0", "3.7.0", "3.59.0"}},
	{"business_onboarding", "0c4f1d2e-8b7a-4c3d-9e6f-1a2b3c4d5e6f", []string{"1.0.0", "2.4.1"}},
	{"account_takeover", "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a", []string{"10.40.0", "10.41.2"}},
	{"trust_and_safety", "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e", []string{"1.2.0"}},
	{"bank_account_verification", "472288ff-b3a8-4e69-89dd-069d5e2bcb41", []string{"3.7.0", "4.0.0"}},
	{"generic_passthrough", "a23c9f6e-b48a-407e-8734-322f1a1b895d", []string{"1.0.0"}},
}

var (
	environments = []string{"Sandbox", "Production"}
	evalSources  = []string{"API", "Dashboard"}
	// decisionsFinal is weighted towards the schema's defaults; the rest are
	// documented custom or conflicting vocabularies.
	decisionsFinal = []string{
		"ACCEPT", "ACCEPT", "ACCEPT", "ACCEPT", "ACCEPT", "ACCEPT",
		"REJECT", "REJECT", "REJECT", "REVIEW", "REVIEW",
		"RESUBMIT", "CANCEL", "PASSTHROUGH", "APPROVE", "DECLINE",
	}
	// decisionsManual are the values a reviewer can set (PUT /state).
	decisionsManual = []string{
		"ACCEPT", "ACCEPT", "ACCEPT", "REJECT", "REJECT", "REVIEW", "RESUBMIT", "CANCEL",
	}
	statusesCompleted = []string{
		"CLOSED", "CLOSED", "CLOSED", "CLOSED", "CLOSED", "CLOSED", "CLOSED", "CLOSED",
		"OPEN", "ON_HOLD",
	}
	statusesPaused = []string{
		"ON_HOLD", "ON_HOLD", "ON_HOLD", "ON_HOLD", "ON_HOLD", "ON_HOLD", "ON_HOLD", "ON_HOLD",
		"OPEN", "ON HOLD",
	}
	statusesCase      = []string{"OPEN", "OPEN", "ON_HOLD", "ON_HOLD", "CLOSED", "CLOSED", "CLOSED", "ON HOLD"}
	evalStatusesRerun = []string{
		"evaluation_completed", "evaluation_completed", "evaluation_completed",
		"evaluation_paused", "evaluation_in_progress",
	}
	subStatuses = []string{
		"Accept", "Reject", "In Review", "Pending Docs", "Pending Verification",
		"More information needed", "Awaiting Customer OTP", "Further Analysis",
	}
	caseSubStatuses = []string{
		"Awaiting documentation", "Escalated", "Waiting on Documentation", "In Review", "",
	}
	tags         = []string{"Digital Intel Step Up", "High Risk", "Bad Device", "Low Risk", "Synthetic Suspect", "OTP Verified"}
	reviewQueues = []string{"Default Queue", "Fraud Ops", "KYC Escalations"}
	riskBands    = []string{"low", "medium", "high"}
	reviewers    = []string{
		"analyst@example.com", "jane.doe@example.com", "compliance@example.com",
		"ops+review@example.org", "j.o'neil@example.co.uk",
	}
	// reviewerNotes are free text: some need escaping on the wire.
	reviewerNotes = []string{
		"Synthetic identity confirmed by analyst",
		"Customer called; documents look genuine.",
		"Address mismatch \u2013 requested utility bill",
		"Line one\nLine two",
		`Said "I moved last month" \ see attachment`,
		"Escalated to L2\tpriority",
		"Überprüfung abgeschlossen ✓",
	}
	// docvNotes are the DocV capture milestones: the first four are
	// documented, the others inferred from the legacy DocV events.
	docvNotes = []string{
		"Process Initiated", "Capture App Opened", "Document Front Uploaded", "Document Back Uploaded",
		"Selfie Uploaded", "Documents Uploaded", "Consent Declined", "Session Expired", "Session Complete",
	}
	fraudTypes     = []string{"synthetic", "first_party", "third_party", "account_takeover", "identity_theft"}
	fileNames      = []string{"utility_bill.pdf", "passport scan.jpg", "bank-statement-2025-07.pdf", "Führerschein.png", "notes.txt"}
	providerErrors = []int{400, 408, 429, 500, 503}
	docvDecisions  = []string{"accept", "reject", "review", "resubmit"}
)

// enrichmentKind is one enrichment provider; head and request are JSON
// fragments built once, since they never change between events.
type enrichmentKind struct {
	head    string // `{"enrichment_name":…,"enrichment_provider":…,"status_code":`
	request string // the request object
	module  string // key of the module result in the response
}

func newEnrichmentKind(name, endpoint, provider, request, module string) enrichmentKind {
	h := append([]byte(`{"enrichment_name":`), appendJSONString(nil, name)...)
	h = append(h, `,"enrichment_endpoint":`...)
	h = appendJSONString(h, endpoint)
	h = append(h, `,"enrichment_provider":`...)
	h = appendJSONString(h, provider)
	h = append(h, `,"status_code":`...)
	return enrichmentKind{head: string(h), request: request, module: module}
}

const idplus = "https://sandbox.socure.com/api/3.0/EmailAuthScore"

var enrichmentKinds = [...]enrichmentKind{
	newEnrichmentKind("Socure Digital Intelligence", "https://sandbox.socure.com/api/3.0/digital-intelligence", "Socure",
		`{"deviceSessionId":"b1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d","ipAddress":"203.0.113.7"}`, "digitalIntelligence"),
	newEnrichmentKind("Socure Verify", idplus, "Socure",
		`{"modules":["kyc"],"firstName":"Jane","surName":"Smith","dob":"1985-03-14","country":"US"}`, "kyc"),
	newEnrichmentKind("Socure Phone Risk", idplus, "Socure",
		`{"modules":["phonerisk"],"mobileNumber":"+15555550123"}`, "phoneRisk"),
	newEnrichmentKind("Socure Email Risk", idplus, "Socure",
		`{"modules":["emailrisk"],"email":"johnsmith123+test@example.com"}`, "emailRisk"),
	newEnrichmentKind("Socure Address Risk", idplus, "Socure",
		`{"modules":["addressrisk"],"physicalAddress":"1 Main St","city":"Springfield","state":"IL","zip":"62701"}`, "addressRisk"),
	newEnrichmentKind("Socure GraphIntelligence + Sigma Fraud", idplus, "Socure",
		`{"modules":["fraud","graphintelligence"],"nationalId":"000000000"}`, "fraud"),
	newEnrichmentKind("Socure Sigma Synthetic", idplus, "Socure",
		`{"modules":["synthetic"]}`, "synthetic"),
	newEnrichmentKind("Deliver OTP SMS", "https://service.socure.com/api/otp/deliver", "SocureOTP",
		`{"phoneNumber":"+15555550123","channel":"sms"}`, "otp"),
	newEnrichmentKind("Verify OTP SMS", "https://service.socure.com/api/otp/verify", "SocureOTP",
		`{"phoneNumber":"+15555550123","code":"123456"}`, "otp"),
	newEnrichmentKind("SocureCNam", "https://service.socure.com/api/cnam", "SocureCNam",
		`{"phoneNumber":"+15555550123"}`, "cnam"),
}

var docvHead = newEnrichmentKind("Socure Document Request - Default Flow",
	"https://service.socure.com/api/5.0/documents/request", "SocureDocRequest", "", "").head

var (
	docvRequests = []string{
		`{"country":"US","firstName":"Jane","surName":"Smith"}`,
		`{"firstName":"José","surName":"Núñez","country":"US","mobileNumber":"+15555550199","dob":"1990-11-02","state":"CA","zip":"94105"}`,
	}
	docvReasonCodes = []string{`["I831","I836"]`, `["R810"]`, `[]`}
	reasonCodeSets  = []string{`["I520","I555"]`, `[]`, `["R551","I610","I611"]`, `["I121"]`}
	// qrCodes are pre-quoted data URIs of several sizes; the documented
	// example has a space after the comma, so some do too.
	qrCodes = []string{
		string(appendJSONString(nil, base64PNG(96, ""))),
		string(appendJSONString(nil, base64PNG(600, ""))),
		string(appendJSONString(nil, base64PNG(2400, " "))),
	}
)
