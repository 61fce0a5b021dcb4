import Foundation
import HookRelayAdmin
import HookRelayCore
import HookRelayStore
import Hummingbird

extension Routes {
    /// A team's alert destinations (HookRelayAdmin's Alerts.swift): `GET alerts` (the config's
    /// and the team's), `PUT alerts` (replaces the team's), `POST alerts/test`.
    static func alertRoutes(
        _ group: RouterGroup<ServeRequestContext>, state: ServerState, team: @escaping @Sendable (ServeRequestContext) async throws -> String
    ) {
        let admin = state.admin
        group.get("alerts") { _, context in
            let team = try await team(context)
            try require(context, team, may: .read)
            return json(["alerts": try await admin.alertDestinations(team: team).map(AlertView.init)])
        }
        group.put("alerts") { request, context in
            let team = try await team(context)
            try require(context, team, may: .manage)
            let fields = try await decodeObject(request)
            guard let list = fields["alerts"] as? [Any] else {
                throw AdminError.invalid(#"give "alerts": a list of {"url", "secret" (optional), "template": slack, teams, discord or raw}"#)
            }
            let destinations = try list.map { item -> AlertDestination in
                guard let object = item as? [String: Any], let url = object["url"] as? String else {
                    throw AdminError.invalid(#"each alert is an object with "url", and optionally "secret" and "template""#)
                }
                guard object["secret"] == nil || object["secret"] is String, object["template"] == nil || object["template"] is String else {
                    throw AdminError.invalid(#"an alert's "secret" and "template" are strings"#)
                }
                return AlertDestination(url: url, secret: object["secret"] as? String, template: object["template"] as? String ?? "raw")
            }
            try await admin.setTeamAlerts(team, destinations)
            try await state.reloadWebhooks()
            try await audit(state, context, team, "team", team, "alerts_set", ["alerts": "\(destinations.count)"])
            return json(["alerts": try await admin.alertDestinations(team: team).map(AlertView.init)])
        }
        group.post("alerts/test") { _, context in
            let team = try await team(context)
            try require(context, team, may: .manage)
            let results = try await admin.testAlerts(team: team)
            try await audit(state, context, team, "team", team, "alerts_tested", ["destinations": "\(results.count)"])
            return json(["results": results.map { AlertTestView(destination: AlertView($0.destination), report: $0.report) }])
        }
    }
}
