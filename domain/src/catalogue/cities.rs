//! Every city, in one stream: there are hundreds, not millions, and one stream keeps their
//! names unique.

use super::{check_text, unique_name};
use crate::aggregate::{stored_events, Aggregate};
use crate::error::Problems;
use crate::{CityId, DomainError, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const MAX_NAME_CHARS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CityDetails {
    /// 1 to 100 characters, unique among cities that are not retired, such as `上海`.
    pub name: String,
    /// The IANA time zone its cinemas' show times are local to, such as `Asia/Shanghai`.
    pub time_zone: String,
}

impl CityDetails {
    fn validate(&self) -> Result<(), DomainError> {
        let mut problems = Problems::default();
        check_text(&mut problems, "name", &self.name, MAX_NAME_CHARS);
        problems.check(
            self.time_zone.parse::<chrono_tz::Tz>().is_ok(),
            "time_zone",
            "must be an IANA time zone such as Asia/Shanghai",
        );
        problems.into_result()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CitiesCommand {
    AddCity { city_id: CityId, city: CityDetails },
    UpdateCity { city_id: CityId, city: CityDetails },
    RetireCity { city_id: CityId },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CityAdded {
    pub city_id: CityId,
    pub city: CityDetails,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CityUpdated {
    pub city_id: CityId,
    pub city: CityDetails,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CityRetired {
    pub city_id: CityId,
    pub retired_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CitiesEvent {
    CityAdded(CityAdded),
    CityUpdated(CityUpdated),
    CityRetired(CityRetired),
}
stored_events!(CitiesEvent {
    CityAdded,
    CityUpdated,
    CityRetired
});

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct City {
    pub details: CityDetails,
    pub retired: bool,
}

/// Every city as the stream tells it (serialised for auditors as it is).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Cities {
    cities: BTreeMap<CityId, City>,
}

impl Cities {
    pub fn get(&self, city_id: &CityId) -> Option<&City> {
        self.cities.get(city_id)
    }

    /// City names are unique regardless of case.
    fn check_name(&self, city: &CityDetails, except: Option<&CityId>) -> Result<(), DomainError> {
        let name = city.name.to_lowercase();
        unique_name(
            self.cities
                .iter()
                .map(|(id, city)| (id, city.details.name.as_str(), city.retired)),
            except,
            |other| other.to_lowercase() == name,
            || format!("a city named {} exists", city.name),
        )
    }
}

impl Aggregate for Cities {
    type Command = CitiesCommand;
    type Event = CitiesEvent;

    fn evolve(&mut self, event: &CitiesEvent) {
        match event {
            CitiesEvent::CityAdded(e) => {
                self.cities.insert(
                    e.city_id,
                    City {
                        details: e.city.clone(),
                        retired: false,
                    },
                );
            }
            CitiesEvent::CityUpdated(e) => {
                if let Some(city) = self.cities.get_mut(&e.city_id) {
                    city.details = e.city.clone();
                }
            }
            CitiesEvent::CityRetired(e) => {
                if let Some(city) = self.cities.get_mut(&e.city_id) {
                    city.retired = true;
                }
            }
        }
    }

    fn decide(
        &self,
        command: &CitiesCommand,
        now: Timestamp,
    ) -> Result<Vec<CitiesEvent>, DomainError> {
        match command {
            CitiesCommand::AddCity { city_id, city } => {
                city.validate()?;
                if let Some(existing) = self.cities.get(city_id) {
                    return if existing.details == *city && !existing.retired {
                        Ok(Vec::new())
                    } else {
                        Err(DomainError::DuplicateId(format!("city {city_id}")))
                    };
                }
                self.check_name(city, None)?;
                Ok(vec![CitiesEvent::CityAdded(CityAdded {
                    city_id: *city_id,
                    city: city.clone(),
                })])
            }
            CitiesCommand::UpdateCity { city_id, city } => {
                let existing = self.cities.get(city_id).ok_or(DomainError::CityNotFound)?;
                if existing.retired {
                    return Err(DomainError::Retired("city"));
                }
                city.validate()?;
                if existing.details == *city {
                    return Ok(Vec::new());
                }
                self.check_name(city, Some(city_id))?;
                Ok(vec![CitiesEvent::CityUpdated(CityUpdated {
                    city_id: *city_id,
                    city: city.clone(),
                })])
            }
            CitiesCommand::RetireCity { city_id } => {
                let existing = self.cities.get(city_id).ok_or(DomainError::CityNotFound)?;
                if existing.retired {
                    return Ok(Vec::new());
                }
                Ok(vec![CitiesEvent::CityRetired(CityRetired {
                    city_id: *city_id,
                    retired_at: now,
                })])
            }
        }
    }
}
