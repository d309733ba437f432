package kycvs

// Status is a person's vaccination status, the answer a token carries.
type Status uint8

// The three statuses, as the brief and CoWIN's KYC-VS define them.
const (
	NotVaccinated       Status = 0
	PartiallyVaccinated Status = 1
	FullyVaccinated     Status = 2
)

// String returns the status in words.
func (s Status) String() string {
	switch s {
	case NotVaccinated:
		return "not vaccinated"
	case PartiallyVaccinated:
		return "partially vaccinated"
	case FullyVaccinated:
		return "fully vaccinated"
	}
	return "invalid status"
}

// Valid reports whether s is 0, 1 or 2.
func (s Status) Valid() bool { return s <= FullyVaccinated }
