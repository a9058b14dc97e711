@delete_redefine
Feature: Delete and redefine array configuration
  To delete and redefine an existing RAID because its configuration is invalid or does not match the
  required settings (Recovery Tasks, task 2). The keys that delete and save are read from the screen,
  as the seed tells the technician to; the controller's report is read after every change.

  @seed.tasks.2 @seed.delete.step1 @seed.delete.step2 @seed.delete.note @seed.delete.step4
  @seed.delete.step5 @seed.redefine.select_x @seed.redefine.tab_raid @seed.redefine.save @seed.redefine.match
  Scenario Outline: Delete and recreate the array of a <device type> <model>
    Given the <device type> <model> packaged server
    When I boot the device
    And I press any key to view Option ROM messages
    And I press F8 to run the Option ROM Configuration for Arrays Utility
    And I select Delete Logical Drive from the RAID BIOS Main Menu and press Enter
    And I select an existing drive array and press the function key that deletes an existing drive array
    Then a warning says that all data on the logical drive will be lost and cannot be recovered
    When I confirm the delete operation
    And I repeat the procedure to delete all drive arrays
    Then all arrays have been deleted
    When I select Create Logical Drive from the RAID BIOS Main Menu and press Enter
    And I create the required Logical Drive Array by selecting its physical drives with an [X]
    And I press TAB to select RAID Configuration and choose RAID 1+0
    And I press Enter to save changes and then the function key that saves a configuration
    Then "Configuration saved." appears
    And the configuration matches the RAID Configuration for the model: "<raid configuration>"

    @seed.redefine.row.ias_360g7_2
    Examples: Interaction Application Server 360 G7 2-Drive
      | device type                    | model          | raid configuration                                  |
      | Interaction Application Server | 360 G7 2-Drive | Single RAID 1+0 logical drive, consisting of 2 HDDs |

    @seed.redefine.row.ias_360g7_4
    Examples: Interaction Application Server 360 G7 4-Drive
      | device type                    | model          | raid configuration                                  |
      | Interaction Application Server | 360 G7 4-Drive | Single RAID 1+0 logical drive, consisting of 4 HDDs |

    @seed.redefine.row.ias_380g7
    Examples: Interaction Application Server 380 G7
      | device type                    | model  | raid configuration                                  |
      | Interaction Application Server | 380 G7 | Single RAID 1+0 logical drive, consisting of 8 HDDs |

    @seed.redefine.row.ims_medium
    Examples: Interaction Media Server Medium (360 G7)
      | device type              | model           | raid configuration                                  |
      | Interaction Media Server | Medium (360 G7) | Single RAID 1+0 logical drive, consisting of 2 HDDs |

    @seed.redefine.row.ims_large
    Examples: Interaction Media Server Large (360 G7)
      | device type              | model          | raid configuration                                  |
      | Interaction Media Server | Large (360 G7) | Single RAID 1+0 logical drive, consisting of 4 HDDs |

    @seed.redefine.row.cic_360g7 @libvirt
    Examples: Customer Interaction Center 360 G7
      | device type                 | model  | raid configuration                                  |
      | Customer Interaction Center | 360 G7 | Single RAID 1+0 logical drive, consisting of 4 HDDs |

  @seed.tasks.2 @seed.delete.step1 @seed.delete.step2 @seed.delete.step3 @seed.delete.step4
  @seed.redefine.sql_select @seed.redefine.tab_raid @seed.redefine.save @seed.redefine.match
  @seed.redefine.row.sql_380g7
  Scenario: Delete both arrays of a SQL Server 380 G7 and recreate the 2 + 6 drive layout
    Given a SQL Server 380 G7 packaged server
    When I boot the device
    And I press any key to view Option ROM messages
    And I press F8 to run the Option ROM Configuration for Arrays Utility
    And I select Delete Logical Drive from the RAID BIOS Main Menu and press Enter
    And I select an existing drive array and press the function key that deletes an existing drive array
    And I confirm the delete operation
    And I repeat the procedure to delete all drive arrays
    Then all arrays have been deleted
    When I select Create Logical Drive from the RAID BIOS Main Menu and press Enter
    And I select the physical drives in bays 1-2 with an [X] and unselect all other physical drives by selecting them and pressing the space bar
    And I press TAB to select RAID Configuration and choose RAID 1+0
    And I press Enter to save changes and then the function key that saves a configuration
    Then "Configuration saved." appears
    When I select Create Logical Drive from the RAID BIOS Main Menu and press Enter
    And I select the physical drives in bays 3-8 with an [X] and unselect all other physical drives by selecting them and pressing the space bar
    And I press TAB to select RAID Configuration and choose RAID 1+0
    And I press Enter to save changes and then the function key that saves a configuration
    Then "Configuration saved." appears
    And the configuration matches the RAID Configuration for the model: "One RAID 1+0 logical drive consisting of 2 HDDs, and one RAID 1+0 logical drive consisting of 6 HDDs"

  @seed.tasks.1 @seed.tasks.2 @seed.tasks.3 @seed.verify.rule_not_ok @seed.delete.step1 @seed.delete.step2
  @seed.delete.note @seed.redefine.select_x @seed.redefine.tab_raid @seed.redefine.save
  Scenario: A replaced drive leaves the status not OK: delete, recreate, then restore factory defaults
    "Recovery may be necessary due to replacement of hard drives": the failed drive in bay 2 was replaced,
    the logical drive is not OK, so the technician goes from Verify RAID configuration to Delete and
    redefine array configuration, then restores the factory image onto the new logical drive.

    Given a Customer Interaction Center 360 G7 packaged server
    And the drive in bay 2 has failed
    And the failed drive in bay 2 has been replaced with a new one
    When I boot the device
    And I press any key to view Option ROM messages
    And I press F8 to run the Option ROM Configuration for Arrays Utility
    And I select View Logical Drive and press Enter
    Then the RAID configuration does not match: the status of Logical Drive # 1 is not OK
    When I press ESC to return to the RAID BIOS Main Menu
    And I select Delete Logical Drive from the RAID BIOS Main Menu and press Enter
    And I select an existing drive array and press the function key that deletes an existing drive array
    And I confirm the delete operation
    Then all arrays have been deleted
    When I select Create Logical Drive from the RAID BIOS Main Menu and press Enter
    And I create the required Logical Drive Array by selecting its physical drives with an [X]
    And I press TAB to select RAID Configuration and choose RAID 1+0
    And I press Enter to save changes and then the function key that saves a configuration
    Then the configuration matches the RAID Configuration for the model: "Single RAID 1+0 logical drive, consisting of 4 HDDs"
    When I leave the Option ROM Configuration for Arrays Utility
    And I press F11 to enter the Boot Menu
    And I select 3) One Time Boot to USB DriveKey
    Then the Welcome to the Interaction Recovery Environment screen appears
    When I ensure that the Standard Factory Image is selected and click Restore Image
    And I click Confirm to proceed
    Then "Factory reversion complete. Click 'Restart' to restart the machine." appears in white
    When I click Restart
    And I select Yes to confirm that I want to restart
    Then the server boots from the hard drive into the factory image of the Customer Interaction Center

  @doc_discrepancy @seed.figure.3 @seed.redefine.tab_raid
  Scenario: Figure 3 shows the Create Logical Drive screen after "Choose RAID 1+0"
    Reason: with three or more drives and a cache module the P410i proposes RAID 5 when Create Logical
    Drive opens; Figure 3 shows the screen after the seed's "Press TAB to select RAID Configuration.
    Choose RAID 1+0." All available drives are selected with [X] and the Maximum Boot partition is
    Disable (4GB maximum), as in Figure 3.

    Given a Customer Interaction Center 360 G7 packaged server
    When I boot the device
    And I press any key to view Option ROM messages
    And I press F8 to run the Option ROM Configuration for Arrays Utility
    And I select Delete Logical Drive from the RAID BIOS Main Menu and press Enter
    And I select an existing drive array and press the function key that deletes an existing drive array
    And I confirm the delete operation
    And I select Create Logical Drive from the RAID BIOS Main Menu and press Enter
    Then the screen shows "[X] Port 1I, Box 1, Bay 4, 450.1GB SAS HDD" and "[X] RAID 5" and "[X] Disable (4GB maximum)"
    When I press TAB to select RAID Configuration and choose RAID 1+0
    Then the screen is Figure 3
