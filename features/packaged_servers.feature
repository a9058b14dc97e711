@packaged_servers
Feature: Packaged Servers Available for Factory Image Restoration
  The Factory Image Restoration procedures are available for the packaged servers the seed lists,
  each with its part number. Each carries the Interaction Recovery module on its internal USB DriveKey,
  and that module knows which packaged server it belongs to.

  Scenario Outline: The <packaged server> (<part number>) can be recovered from its DriveKey
    Given the packaged server "<packaged server>"
    Then its part number is <part number>
    When I boot the device
    And I press F11 to enter the Boot Menu
    And I select 3) One Time Boot to USB DriveKey
    Then the Welcome to the Interaction Recovery Environment screen appears
    And the Select the image to restore area lists "Standard Factory Image"
    And the Interaction Recovery module on the DriveKey is for the "<packaged server>" with part number <part number>
    When I click Shutdown and confirm
    Then the server powers off

    @seed.servers.ims_small
    Examples: Interaction Media Server 4.0 Small Appliance
      | packaged server                              | part number         |
      | Interaction Media Server 4.0 Small Appliance | SY-014-4.0-MSAS-B02 |

    @seed.servers.ims_medium
    Examples: Interaction Media Server 4.0 Medium Appliance
      | packaged server                               | part number         |
      | Interaction Media Server 4.0 Medium Appliance | SY-014-4.0-MSAM-B02 |

    @seed.servers.ims_large
    Examples: Interaction Media Server 4.0 Large Appliance
      | packaged server                              | part number         |
      | Interaction Media Server 4.0 Large Appliance | SY-014-4.0-MSAL-B02 |

    @seed.servers.cic
    Examples: Customer Interaction Center Packaged Server 4.0
      | packaged server                                | part number            |
      | Customer Interaction Center Packaged Server 4.0 | TH-900-4.0-CICISRV-B01 |
